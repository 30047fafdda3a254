// The shared log's text mirrored in an anonymous memory file (memfd), at one byte offset per
// byte of text ever appended, so that a writer can hand a contiguous range of it to a socket
// with sendfile(): the kernel then attaches the file's pages to the socket by reference instead
// of copying the bytes into every subscriber's socket buffer.
//
// The file is append-only: a byte once written is never written again, so a page a socket still
// references keeps its bytes whatever the log does afterwards. Chunks register the start of
// their text while they exist; the pages before the oldest live chunk are released (a hole is
// punched, once at least 256 KiB can go), so the file holds about what the log holds.
//
// If the file cannot be created or written (no memfd, tmpfs full), it is broken from then on and
// writers send from memory as before; nothing else changes.
//
// Single-threaded (the daemon's io_context thread).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string_view>

namespace ruprobes::events {

class event_file {
public:
    // A new, empty file; nullptr when the system has none to give.
    static std::shared_ptr<event_file> create();
    ~event_file();
    event_file(const event_file&) = delete;
    event_file& operator=(const event_file&) = delete;

    int fd() const { return fd_; }
    bool usable() const { return !broken_; }
    // Bytes [0, end()) have been written (or skipped: see skip_to).
    uint64_t end() const { return end_; }

    // Appends `parts` (in order) at end() in one write; false (and broken from now on) when the
    // write fails.
    bool append(std::span<const std::string_view> parts);
    // Moves end() forward to `offset` without writing: text that was dropped before it was
    // written, which nobody can be handed any more.
    void skip_to(uint64_t offset);

    // A chunk whose text starts at `offset` exists / no longer exists. Pages wholly before the
    // oldest existing chunk are released.
    void chunk_alive(uint64_t offset) { live_.insert(offset); }
    void chunk_gone(uint64_t offset);

    // Bytes released so far (whole pages before this offset).
    uint64_t released() const { return released_; }

private:
    explicit event_file(int fd) : fd_(fd) {}
    void release_before(uint64_t offset);

    int fd_;
    bool broken_ = false;
    uint64_t end_ = 0;
    uint64_t released_ = 0;
    std::multiset<uint64_t> live_;
};

} // namespace ruprobes::events
