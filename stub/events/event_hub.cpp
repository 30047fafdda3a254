// Bounded per-subscriber queues with loss notices placed at the gaps.
#include "events/event_hub.hpp"

#include <algorithm>

namespace ruprobes::events {

subscriber::subscriber(event_hub* hub, std::weak_ptr<bool> hub_alive, std::size_t capacity,
                       std::function<void()> wake)
    : hub_(hub), hub_alive_(std::move(hub_alive)), capacity_(capacity ? capacity : 1),
      wake_(std::move(wake)) {}

subscriber::~subscriber() {
    if (hub_alive_.expired())
        return;
    auto& subs = hub_->subscribers_;
    subs.erase(std::remove(subs.begin(), subs.end(), this), subs.end());
}

uint64_t subscriber::add_filter(event_filter filter) {
    uint64_t id = hub_alive_.expired() ? 0 : hub_->next_filter_++;
    filters_.emplace(id, std::move(filter));
    return id;
}

bool subscriber::remove_filter(uint64_t id) {
    return filters_.erase(id) > 0;
}

void subscriber::offer(const event_ptr& event) {
    bool match = false;
    for (const auto& [id, filter] : filters_) {
        if (filter.matches(*event)) {
            match = true;
            break;
        }
    }
    if (!match)
        return;
    bool was_empty = empty();
    if (queue_.size() >= capacity_) {
        lost_at_tail_++;
        lost_total_++;
    } else {
        queue_.push_back(entry{event, lost_at_tail_});
        lost_at_tail_ = 0;
    }
    if (was_empty && wake_)
        wake_();
}

std::optional<delivery> subscriber::pop() {
    if (queue_.empty()) {
        if (lost_at_tail_ == 0)
            return std::nullopt;
        delivery d{nullptr, lost_at_tail_};
        lost_at_tail_ = 0;
        return d;
    }
    entry& front = queue_.front();
    if (front.lost_before > 0) {
        delivery d{nullptr, front.lost_before};
        front.lost_before = 0;
        return d;
    }
    delivery d{std::move(front.event), 0};
    queue_.pop_front();
    delivered_++;
    return d;
}

subscriber_stats subscriber::stats() const {
    return subscriber_stats{delivered_, lost_total_, queue_.size(), capacity_};
}

std::shared_ptr<subscriber> event_hub::attach(std::size_t capacity, std::function<void()> wake) {
    std::shared_ptr<subscriber> s(new subscriber(this, alive_, capacity, std::move(wake)));
    subscribers_.push_back(s.get());
    return s;
}

void event_hub::publish(const event_ptr& event) {
    published_++;
    // Wake callbacks only schedule work (see attach), so the list cannot change under us.
    for (subscriber* s : subscribers_)
        s->offer(event);
}

} // namespace ruprobes::events
