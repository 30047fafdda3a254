// The simulated kernel's channel to ruprobesd: a unix stream socket it listens on, served like
// QEMU's `-chardev socket,server=on` (what `ruprobesd --qemu-socket PATH` connects to): one
// client at a time, the next one accepted when it goes away, bytes written while nobody is
// connected are dropped. Nothing here blocks except wait().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sim {

class socket_channel {
public:
    // Listens on `path` (a stale socket file there is replaced). Throws std::runtime_error.
    explicit socket_channel(std::string path);
    ~socket_channel();
    socket_channel(const socket_channel&) = delete;
    socket_channel& operator=(const socket_channel&) = delete;

    // Up to `max` received bytes (0: none now). Accepts a waiting client first when there is
    // none; a client that closed is dropped.
    size_t read(uint8_t* dst, size_t max);
    // Queues one whole frame, or nothing (false) when the queue has no room for it. Without a
    // client the bytes are dropped (true), as QEMU drops them.
    bool write(const uint8_t* src, size_t len);
    // Sends what is queued as far as the socket takes it now.
    void flush();
    // Blocks until a client connects or sends, queued bytes can be sent, or `timeout_ms` passed.
    void wait(int timeout_ms);

    bool connected() const { return client_ >= 0; }
    size_t queued() const { return out_.size() - out_head_; }
    const std::string& path() const { return path_; }

    // Bytes a frame may wait behind before write() says "no room" (4 MiB).
    static constexpr size_t max_queued = 4u << 20;

private:
    void accept_client();
    void drop_client();

    std::string path_;
    int listener_ = -1;
    int client_ = -1;
    std::vector<uint8_t> out_;
    size_t out_head_ = 0;
};

} // namespace sim
