// The machine's ceiling for the fan-out benchmark: one writer process sends the same probe.hit
// lines (~280 bytes, or as long as the daemon's) to N loopback TCP sockets as fast as the kernel
// takes them (256 KiB at a time, non-blocking, round robin), and this process reads them with the
// benchmark's own reader. No daemon, no QEMU: the best any daemon could deliver here, per reader.
//
// Two ways to write, as a daemon may: send() from memory (the kernel copies the bytes into each
// socket's buffer), or sendfile() from a memory file holding the lines (the kernel references
// the file's pages; what ruprobesd does for a subscriber that takes every event).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ruprobes::bench {

struct ceiling_result {
    int readers = 0;
    bool core_busy = false; // a spinning process took one core (as QEMU does at full rate)
    bool from_file = false; // sendfile() from a memory file instead of send() from memory
    double min_rate = 0;    // lines/s of the slowest reader
    double mean_rate = 0;   // lines/s per reader, mean
    std::size_t line_bytes = 0;
    double writer_ns = 0; // the writer's CPU time per line received (all readers)
};

// A probe.hit notification shaped like the daemon's (newline included), padded with spaces
// before its closing braces to `length` bytes when shorter.
std::string sample_hit_line(uint64_t seq, std::size_t length = 0);

// Streams for `duration` to `readers` sockets and measures what each reader received.
ceiling_result measure_ceiling(int readers, std::chrono::milliseconds duration, bool core_busy,
                               bool from_file, std::size_t line_bytes = 0);

} // namespace ruprobes::bench
