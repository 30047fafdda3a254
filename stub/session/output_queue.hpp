// The bytes a session owes its client, bounded: push() says when the bound is passed, and the
// session decides (the RSP side drops the client, the JSON-RPC side stops reading it).
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace ruprobes::session {

class output_queue {
public:
    explicit output_queue(std::size_t limit) : limit_(limit) {}

    // Queues `bytes`; false when the queue now holds more than the limit.
    bool push(std::string bytes) {
        bytes_ += bytes.size();
        items_.push_back(std::move(bytes));
        return bytes_ <= limit_;
    }
    // Takes queued items, in order, until about `max_bytes` are taken (at least one item).
    std::string take(std::size_t max_bytes = static_cast<std::size_t>(-1)) {
        std::string out;
        while (!items_.empty() &&
               (out.empty() || out.size() + items_.front().size() <= max_bytes)) {
            bytes_ -= items_.front().size();
            out += items_.front();
            items_.pop_front();
        }
        return out;
    }
    // Takes the oldest item.
    std::string pop() {
        std::string out = std::move(items_.front());
        items_.pop_front();
        bytes_ -= out.size();
        return out;
    }
    void clear() {
        items_.clear();
        bytes_ = 0;
    }
    bool empty() const { return items_.empty(); }
    std::size_t bytes() const { return bytes_; }
    std::size_t limit() const { return limit_; }
    bool over_limit() const { return bytes_ > limit_; }

private:
    std::deque<std::string> items_;
    std::size_t bytes_ = 0;
    std::size_t limit_;
};

} // namespace ruprobes::session
