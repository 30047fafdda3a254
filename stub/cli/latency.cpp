#include "cli/latency.hpp"

#include <bit>
#include <cstdio>

namespace ruprobes::cli {

unsigned log2_histogram::bucket_of(uint64_t ns) {
    return ns == 0 ? 0 : static_cast<unsigned>(std::bit_width(ns) - 1);
}

void log2_histogram::add(uint64_t ns) {
    buckets_[bucket_of(ns)]++;
    count_++;
    sum_ += ns;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
}

std::string format_duration(uint64_t ns) {
    static const struct {
        double scale;
        const char* unit;
    } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
    char text[32];
    for (const auto& u : units) {
        if (static_cast<double>(ns) >= u.scale) {
            double v = static_cast<double>(ns) / u.scale;
            // Three significant digits: 1.02us, 32.8us, 131us.
            std::snprintf(text, sizeof text,
                          v < 10    ? "%.2f%s"
                          : v < 100 ? "%.1f%s"
                                    : "%.0f%s",
                          v, u.unit);
            return text;
        }
    }
    return std::to_string(ns) + "ns";
}

std::vector<std::string> log2_histogram::render(unsigned bar_width) const {
    std::vector<std::string> lines;
    if (count_ == 0)
        return lines;
    unsigned lo = bucket_of(min_), hi = bucket_of(max_);
    uint64_t fullest = 0;
    for (unsigned k = lo; k <= hi; k++)
        fullest = std::max(fullest, buckets_[k]);
    for (unsigned k = lo; k <= hi; k++) {
        uint64_t low = k == 0 ? 0 : uint64_t(1) << k;
        std::string high = k >= 63 ? "max" : format_duration(uint64_t(1) << (k + 1));
        unsigned bar = static_cast<unsigned>((buckets_[k] * bar_width + fullest - 1) / fullest);
        char head[64];
        std::snprintf(head, sizeof head, "[%7s, %7s) %8llu |", format_duration(low).c_str(),
                      high.c_str(), static_cast<unsigned long long>(buckets_[k]));
        lines.push_back(std::string(head) + std::string(bar, '@') +
                        std::string(bar_width - bar, ' ') + "|");
    }
    return lines;
}

nlohmann::json log2_histogram::to_json() const {
    nlohmann::json buckets = nlohmann::json::array();
    for (unsigned k = 0; k < buckets_.size(); k++) {
        if (buckets_[k] == 0)
            continue;
        uint64_t low = k == 0 ? 0 : uint64_t(1) << k;
        nlohmann::json high =
            k >= 63 ? nlohmann::json(nullptr) : nlohmann::json(uint64_t(1) << (k + 1));
        buckets.push_back({{"low_ns", low}, {"high_ns", high}, {"count", buckets_[k]}});
    }
    return {{"count", count_},
            {"min_ns", min()},
            {"max_ns", max_},
            {"mean_ns", mean()},
            {"buckets", buckets}};
}

void call_pairing::on_entry(const std::string& function, int64_t tid, uint64_t sp,
                            uint64_t time_ns) {
    auto& stack = stacks_[{function, tid}];
    if (stack.size() >= max_depth) {
        stack.erase(stack.begin());
        dropped_entries_++;
    }
    stack.push_back({sp, time_ns});
}

std::optional<uint64_t> call_pairing::on_return(const std::string& function, int64_t tid,
                                                uint64_t sp, uint64_t time_ns) {
    auto it = stacks_.find({function, tid});
    if (it == stacks_.end() || it->second.empty()) {
        unmatched_returns_++;
        return std::nullopt;
    }
    auto& stack = it->second;
    // The stack grows down: entries of frames deeper than the returning one have a lower sp.
    while (!stack.empty() && stack.back().sp < sp) {
        stack.pop_back();
        dropped_entries_++;
    }
    if (stack.empty() || stack.back().sp != sp) {
        unmatched_returns_++;
        return std::nullopt;
    }
    uint64_t start = stack.back().time_ns;
    stack.pop_back();
    return time_ns >= start ? time_ns - start : 0;
}

void call_pairing::on_thread_exit(int64_t tid) {
    for (auto it = stacks_.begin(); it != stacks_.end();) {
        if (it->first.second == tid) {
            dropped_entries_ += it->second.size();
            it = stacks_.erase(it);
        } else {
            ++it;
        }
    }
}

size_t call_pairing::open_entries() const {
    size_t n = 0;
    for (const auto& [key, stack] : stacks_)
        n += stack.size();
    return n;
}

} // namespace ruprobes::cli
