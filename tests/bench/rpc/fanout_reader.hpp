// The fan-out benchmark's reading side: many line-framed JSON-RPC streams read by one thread
// with epoll, counting probe.hit lines and parsing only events.lost notices. Shared by the
// daemon rounds and the loopback ceiling, so both measure with the same reader.
//
// Cheap on purpose (it runs on the same two cores as the daemon and QEMU): one recv of up to
// 256 KiB per ready stream and turn, lines counted in place with memchr, and only the line that
// straddles two reads is copied.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ruprobes::bench {

using clock_type = std::chrono::steady_clock;

// What one stream delivered.
struct stream_count {
    int fd = -1;
    uint64_t hits = 0;        // probe.hit lines
    uint64_t lost = 0;        // events announced lost by the daemon (subscriber side)
    uint64_t kernel_lost = 0; // events announced lost by the kernel (kernel_ring_full)
    uint64_t other = 0;       // any other line (responses, other notifications)
    uint64_t bytes = 0;
    clock_type::time_point first, last; // when the first and the last hit arrived
    std::string partial;                // the unfinished line at the end of the last read
};

// Counts the lines of `data` (appended to `s`'s unfinished line). A line is a hit when its
// method is probe.hit; events.lost lines are parsed for their count and reason.
void consume(stream_count& s, std::string_view data, clock_type::time_point now);

// The hits per second of `s` over its own streaming window (first to last hit); 0 with fewer
// than two hits.
double hit_rate(const stream_count& s);

class fanout_reader {
public:
    // Watches every stream in `streams` (the vector must not change size afterwards).
    explicit fanout_reader(std::vector<stream_count>& streams);
    ~fanout_reader();
    fanout_reader(const fanout_reader&) = delete;
    fanout_reader& operator=(const fanout_reader&) = delete;

    // Reads what the streams have, waiting up to `timeout` for the first byte; false when
    // nothing came. A stream whose peer closed is dropped from the watch set.
    bool pump(std::chrono::milliseconds timeout);

private:
    std::vector<stream_count>& streams_;
    int epoll_fd_ = -1;
    std::vector<char> buffer_;
};

} // namespace ruprobes::bench
