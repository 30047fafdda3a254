// Fan-out of events to subscribers. Each subscriber (one JSON-RPC session) has a set of filters
// and one bounded queue; publishing never waits and never copies an event per subscriber (the
// queues share it). When a queue is full the new event is dropped and counted; the consumer then
// sees a loss notice at the place of the gap, with the number of events missing there. So a slow
// or stalled subscriber costs at most `capacity` queue slots and never slows the others.
//
// Single-threaded (the daemon's io_context thread).
#pragma once

#include "events/event_filter.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace ruprobes::events {

using event_ptr = std::shared_ptr<const published_event>;

// What a consumer takes from its queue: an event, or a notice that `lost` events are missing
// right here (then `event` is null).
struct delivery {
    event_ptr event;
    uint64_t lost = 0;
};

struct subscriber_stats {
    uint64_t delivered = 0; // events handed to the consumer
    uint64_t lost = 0;      // events dropped because the queue was full
    std::size_t queued = 0; // events waiting now
    std::size_t capacity = 0;
};

class event_hub;

class subscriber {
public:
    ~subscriber();
    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    // Adds a filter; events matching any filter of this subscriber are queued once. The id is
    // unique in the hub (events.subscribe returns it).
    uint64_t add_filter(event_filter filter);
    // Removes one of this subscriber's filters; false when it has no filter with that id.
    bool remove_filter(uint64_t id);
    std::size_t filter_count() const { return filters_.size(); }

    // The next delivery, or nothing when the queue is empty.
    std::optional<delivery> pop();
    bool empty() const { return queue_.empty() && lost_at_tail_ == 0; }

    subscriber_stats stats() const;

private:
    friend class event_hub;
    struct entry {
        event_ptr event;
        uint64_t lost_before = 0; // events dropped just before this one
    };

    subscriber(event_hub* hub, std::weak_ptr<bool> hub_alive, std::size_t capacity,
               std::function<void()> wake);
    void offer(const event_ptr& event);

    event_hub* hub_;
    std::weak_ptr<bool> hub_alive_;
    std::size_t capacity_;
    std::function<void()> wake_;
    std::map<uint64_t, event_filter> filters_;
    std::deque<entry> queue_;
    uint64_t lost_at_tail_ = 0; // dropped after the last queued event
    uint64_t delivered_ = 0;
    uint64_t lost_total_ = 0;
};

class event_hub {
public:
    event_hub() = default;
    event_hub(const event_hub&) = delete;
    event_hub& operator=(const event_hub&) = delete;

    // A new subscriber with a queue of `capacity` events (at least 1). `wake` is called when its
    // queue goes from empty to non-empty, so the consumer can start draining; it must only
    // schedule that work (never attach, detach or publish from inside). The subscriber leaves
    // the hub when the returned pointer is destroyed.
    std::shared_ptr<subscriber> attach(std::size_t capacity, std::function<void()> wake);

    // Queues `event` for every subscriber with a matching filter.
    void publish(const event_ptr& event);

    std::size_t subscriber_count() const { return subscribers_.size(); }
    uint64_t published() const { return published_; }

private:
    friend class subscriber;
    std::vector<subscriber*> subscribers_;
    uint64_t next_filter_ = 1;
    uint64_t published_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace ruprobes::events
