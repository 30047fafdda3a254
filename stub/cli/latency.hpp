// Call durations from probe hits: entry and return hits of one function matched per thread, and
// a power-of-two histogram of the durations. Pure data structures, unit-tested.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ruprobes::cli {

// Durations in nanoseconds in buckets [2^k, 2^(k+1)) (bucket 0 also holds 0 ns).
class log2_histogram {
public:
    void add(uint64_t ns);

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    // Mean duration in ns; 0 when empty.
    uint64_t mean() const { return count_ ? sum_ / count_ : 0; }
    // Index k of the bucket holding `ns`.
    static unsigned bucket_of(uint64_t ns);
    uint64_t bucket(unsigned k) const { return k < buckets_.size() ? buckets_[k] : 0; }

    // Text lines, one per bucket from the lowest to the highest non-empty one:
    // "[  4us,   8us)    123 |@@@@@@      |", bars scaled to `bar_width` for the fullest bucket.
    // No lines when empty.
    std::vector<std::string> render(unsigned bar_width = 40) const;
    // {count, min_ns, max_ns, mean_ns, buckets: [{low_ns, high_ns, count}...]} (non-empty ones).
    nlohmann::json to_json() const;

private:
    std::array<uint64_t, 64> buckets_{};
    uint64_t count_ = 0;
    uint64_t sum_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
};

// "512ns", "1.02us", "32.8us", "131us", "2.10s": a duration with three significant digits.
std::string format_duration(uint64_t ns);

// Matches entry and return hits of functions per thread. A return probe fires after the function
// returned, when sp is back at its value at the entry, so a return matches the innermost open
// entry of the same function and thread with the same sp; open entries with a lower sp (deeper
// frames left by longjmp, or whose return was not reported) are discarded on the way.
class call_pairing {
public:
    // An entry hit of `function` on thread `tid`, stack pointer `sp`, guest time `time_ns`.
    void on_entry(const std::string& function, int64_t tid, uint64_t sp, uint64_t time_ns);
    // A return hit; the call's duration when an entry matched, nothing otherwise.
    std::optional<uint64_t> on_return(const std::string& function, int64_t tid, uint64_t sp,
                                      uint64_t time_ns);
    // Forgets the open entries of a thread (it exited).
    void on_thread_exit(int64_t tid);

    // Returns that matched no entry (e.g. the call began before the watch started).
    uint64_t unmatched_returns() const { return unmatched_returns_; }
    // Entries dropped without a return (longjmp, lost events, a full stack).
    uint64_t dropped_entries() const { return dropped_entries_; }
    // Open entries right now.
    size_t open_entries() const;

    // Open entries kept per (function, thread); older ones are dropped beyond this.
    static constexpr size_t max_depth = 4096;

private:
    struct open_entry {
        uint64_t sp;
        uint64_t time_ns;
    };
    std::map<std::pair<std::string, int64_t>, std::vector<open_entry>> stacks_;
    uint64_t unmatched_returns_ = 0;
    uint64_t dropped_entries_ = 0;
};

} // namespace ruprobes::cli
