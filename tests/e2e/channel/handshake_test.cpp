// The kernel's virtio-console driver and agent answer the wire protocol's handshake over QEMU's
// unix socket, with plain sockets and the codec on this side (no host library involved), and
// resynchronise after garbage in the stream.
#include "ruprobes/wire/codec.hpp"
#include "ruprobes_test/qemu_guest.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
namespace wire = ruprobes::wire;
using ruprobes::test::guest_options;
using ruprobes::test::qemu_guest;
using ruprobes::test::temp_dir;

namespace {

// A blocking client of the agent socket with deadlines on every wait.
class raw_channel {
public:
    // Connects to `path`, retrying until QEMU has created the socket.
    bool connect(const std::string& path, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
            if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
                return true;
            }
            ::close(fd_);
            fd_ = -1;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }
    ~raw_channel() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    void send_bytes(std::span<const uint8_t> bytes) {
        ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(bytes.size()));
    }
    template <typename M>
    void send(uint32_t id, const M& m) {
        std::vector<uint8_t> out(wire::max_frame);
        out.resize(wire::encode(out, id, m));
        send_bytes(out);
    }

    // The next frame of type `type` (others are skipped), or nothing at the deadline. The
    // payload is a copy.
    std::optional<std::pair<wire::frame, std::vector<uint8_t>>>
    wait_for(uint16_t type, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            while (!received_.empty()) {
                auto got = std::move(received_.front());
                received_.pop_front();
                if (got.first.type == type) {
                    return got;
                }
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            ssize_t n = ::recv(fd_, chunk_.data(), chunk_.size(), 0);
            if (n <= 0) {
                return std::nullopt;
            }
            std::span<const uint8_t> in(chunk_.data(), static_cast<size_t>(n));
            while (!in.empty()) {
                in = in.subspan(decoder_.feed(in));
                while (auto f = decoder_.next()) {
                    received_.emplace_back(
                        *f, std::vector<uint8_t>(f->payload.begin(), f->payload.end()));
                }
            }
        }
    }

private:
    int fd_ = -1;
    std::vector<uint8_t> storage_ = std::vector<uint8_t>(wire::max_frame);
    wire::frame_decoder decoder_{storage_};
    std::array<uint8_t, 4096> chunk_{};
    std::deque<std::pair<wire::frame, std::vector<uint8_t>>> received_;
};

template <typename M>
M decode_copy(const std::pair<wire::frame, std::vector<uint8_t>>& got) {
    wire::frame f = got.first;
    f.payload = got.second;
    auto r = wire::decode<M>(f);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : M{};
}

guest_options staying_guest() {
    guest_options o;
    o.agent_channel = true;
    o.append = "ruprobes.stay";
    return o;
}

} // namespace

TEST(ChannelHandshake, HelloPingAndGarbage) {
    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    ASSERT_TRUE(guest.wait_for_console("agent: serving the host", 30s)) << guest.console();
    raw_channel ch;
    ASSERT_TRUE(ch.connect(guest.agent_socket(), 10s));

    // Before hello: a request other than ping is refused with no_session.
    ch.send(1, wire::probe_remove_request{.probe_id = 1});
    auto refused = ch.wait_for(wire::probe_remove_response::code, 10s);
    ASSERT_TRUE(refused) << guest.console();
    EXPECT_EQ(decode_copy<wire::probe_remove_response>(*refused).status, wire::status::no_session);

    ch.send(2, wire::hello_request{.min_version = 1,
                                   .max_version = 1,
                                   .capabilities = wire::capability::all,
                                   .session_id = 0xC0FFEE,
                                   .flags = wire::hello_flag_reset,
                                   .lease_ms = 0});
    auto hello = ch.wait_for(wire::hello_response::code, 10s);
    ASSERT_TRUE(hello) << guest.console();
    EXPECT_EQ(hello->first.request_id, 2u);
    auto h = decode_copy<wire::hello_response>(*hello);
    EXPECT_EQ(h.status, 0);
    EXPECT_EQ(h.version, 1);
    EXPECT_NE(h.boot_id, 0u);
    EXPECT_EQ(h.max_frame, wire::max_frame);
    EXPECT_GT(h.hit_window, 0u);
    EXPECT_GE(h.next_hit_seq, 1u);

    // Garbage, a corrupted frame and a partial header, then a ping: the kernel's decoder skips
    // to the ping and answers it.
    std::vector<uint8_t> junk = {'x', 'y', 'R', 'U', 'P', 0, 0xFF};
    ch.send_bytes(junk);
    std::vector<uint8_t> bad(wire::max_frame);
    bad.resize(wire::encode(bad, 3, wire::ping_request{.cookie = 1}));
    bad[18] ^= 0x40;
    ch.send_bytes(bad);
    ch.send(4, wire::ping_request{.cookie = 0xFEEDFACE});
    auto pong = ch.wait_for(wire::ping_response::code, 10s);
    ASSERT_TRUE(pong) << guest.console();
    EXPECT_EQ(pong->first.request_id, 4u);
    auto p = decode_copy<wire::ping_response>(*pong);
    EXPECT_EQ(p.cookie, 0xFEEDFACEu);
    EXPECT_GT(p.time_ns, h.time_ns);
}

TEST(ChannelHandshake, VersionMismatchIsRefused) {
    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    ASSERT_TRUE(guest.wait_for_console("agent: serving the host", 30s)) << guest.console();
    raw_channel ch;
    ASSERT_TRUE(ch.connect(guest.agent_socket(), 10s));
    ch.send(9, wire::hello_request{.min_version = 2, .max_version = 5});
    auto hello = ch.wait_for(wire::hello_response::code, 10s);
    ASSERT_TRUE(hello) << guest.console();
    EXPECT_EQ(decode_copy<wire::hello_response>(*hello).status, wire::status::version_mismatch);
}
