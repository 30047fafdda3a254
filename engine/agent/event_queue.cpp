#include "agent/event_queue.hpp"

bool event_queue::push(const agent_event& e) {
    if (count_ == capacity) {
        dropped_++;
        return false;
    }
    events_[(head_ + count_) % capacity] = e;
    count_++;
    return true;
}

void event_queue::pop() {
    if (count_ > 0) {
        head_ = (head_ + 1) % capacity;
        count_--;
    }
}

void event_queue::discard_all() {
    dropped_ += count_;
    head_ = 0;
    count_ = 0;
}
