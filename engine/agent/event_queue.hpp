// Stops, execs, exits and hit-ring drops reported by the kernel (ruprobes_agent_on_* and the hit
// sink, in the context that caused them) waiting for the agent to send them.
// Each event carries the hit seq it follows (hit_mark): the agent sends it after every hit record
// with a smaller seq and before the others, so the host sees them in the order they happened.
// Bounded; overflow is counted and reported to the host as events_dropped.
#pragma once

#include "ruprobes/wire/messages.hpp"

struct agent_event {
    ruprobes::wire::msg_type type = ruprobes::wire::msg_type::stop;
    uint32_t pid = 0;
    uint32_t tid = 0; // stop
    uint32_t ppid = 0;
    uint8_t stop_reason = 0; // wire::stop_reason
    uint32_t probe_id = 0;
    int32_t status = 0; // exit: code or signal
    bool killed = false;
    char path[32] = {};
    uint64_t hit_mark = 0;     // the seq the next hit record got when this happened
    uint64_t hits_dropped = 0; // drops: the ring's drop total after this loss
};

class event_queue {
public:
    static constexpr uint32_t capacity = 64;

    // False (and counted) when full.
    bool push(const agent_event& e);
    bool empty() const { return count_ == 0; }
    bool full() const { return count_ == capacity; }
    const agent_event& front() const { return events_[head_]; }
    // The newest event (the queue must not be empty).
    agent_event& back() { return events_[(head_ + count_ - 1) % capacity]; }
    void pop();
    // Forgets every queued event; they count as dropped.
    void discard_all();
    uint64_t dropped() const { return dropped_; }
    void count_drop() { dropped_++; }

private:
    agent_event events_[capacity];
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    uint64_t dropped_ = 0;
};
