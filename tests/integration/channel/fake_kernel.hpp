// A scripted kernel for the channel client's tests: the other end of a socketpair, driven from
// the test's own thread with blocking reads that each have a deadline. The test says which frame
// it expects next and what to answer.
#pragma once

#include "ruprobes/wire/codec.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

namespace ruprobes::test {

namespace wire = ruprobes::wire;

struct owned_frame {
    uint16_t type = 0;
    uint32_t request_id = 0;
    std::vector<uint8_t> payload;
    wire::frame view() const { return wire::frame{type, request_id, payload}; }
};

class fake_kernel {
public:
    explicit fake_kernel(int fd) : fd_(fd) {}
    ~fake_kernel();
    fake_kernel(const fake_kernel&) = delete;
    fake_kernel& operator=(const fake_kernel&) = delete;

    // The next frame of `type` (the oldest one skipped earlier, else the next to arrive); frames
    // of other types are kept in skipped(). Nothing when the deadline passes or the peer closed.
    std::optional<owned_frame> expect(uint16_t type,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // expect() and decode as M (whose spans point into the returned frame's payload).
    template <typename M>
    std::optional<std::pair<owned_frame, M>>
    expect_message(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto f = expect(M::code, timeout);
        if (!f) {
            return std::nullopt;
        }
        auto m = wire::decode<M>(f->view());
        if (!m.ok()) {
            return std::nullopt;
        }
        return std::make_pair(std::move(*f), *m);
    }

    void send_bytes(std::span<const uint8_t> bytes);
    template <typename M>
    void send(uint32_t request_id, const M& m) {
        std::vector<uint8_t> out(wire::max_frame);
        out.resize(wire::encode(out, request_id, m));
        send_bytes(out);
    }
    // An error response to `request`.
    void send_status(const owned_frame& request, int32_t status);

    // Closes the kernel's end (the client sees EOF).
    void close();

    const std::deque<owned_frame>& skipped() const { return skipped_; }

private:
    bool read_more(std::chrono::steady_clock::time_point deadline);

    int fd_;
    bool eof_ = false;
    std::vector<uint8_t> storage_ = std::vector<uint8_t>(wire::max_frame);
    wire::frame_decoder decoder_{storage_};
    std::deque<owned_frame> ready_;
    std::deque<owned_frame> skipped_;
};

} // namespace ruprobes::test
