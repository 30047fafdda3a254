// The RSP server over a real TCP socket, driven byte by byte by a scripted client: acks and
// resends, bad checksums, partial packets, no-ack mode, oversize and malformed packets, noise,
// and the 0x03 interrupt. The server runs on the in-memory fake kernel in a background thread.
#include "rsp/rsp_server.hpp"
#include "ruprobes/rsp/framer.hpp"
#include "target_model/fake_backend.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace ruprobes;
using namespace std::chrono_literals;

namespace {

struct server_fixture : ::testing::Test {
    boost::asio::io_context io;
    target::fake_backend fake{io.get_executor()};
    target::target_model model{fake};
    std::unique_ptr<rsp::rsp_server> server;
    std::thread runner;
    int fd = -1;
    std::string pending; // bytes received but not consumed yet

    void SetUp() override {
        server = std::make_unique<rsp::rsp_server>(
            io.get_executor(),
            boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0), model,
            rsp::session_options{}, std::vector<std::string>{"/bin/loop"});
        server->start();
        uint16_t port = server->port();
        runner = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io);
            io.run();
        });
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        timeval tv{5, 0}; // every read of the test has a deadline
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }

    void TearDown() override {
        if (fd >= 0)
            ::close(fd);
        boost::asio::post(io, [this] {
            server->stop();
            io.stop();
        });
        runner.join();
    }

    void send(std::string_view bytes) {
        ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    static std::string packet(std::string_view payload) {
        return "$" + std::string(payload) + "#" + rsp::checksum_hex(payload);
    }
    // Reads until `n` bytes are pending; empty string on timeout or EOF.
    bool fill(size_t n) {
        char buf[4096];
        while (pending.size() < n) {
            ssize_t got = ::read(fd, buf, sizeof buf);
            if (got <= 0)
                return false;
            pending.append(buf, static_cast<size_t>(got));
        }
        return true;
    }
    // The next single byte (an ack).
    char next_byte() {
        if (!fill(1))
            return '\0';
        char c = pending[0];
        pending.erase(0, 1);
        return c;
    }
    // The next whole packet `$…#xx` (checksum verified), decoded.
    std::string next_packet() {
        rsp::framer f;
        std::vector<rsp::frame> frames;
        while (true) {
            auto end = pending.find('#');
            if (end != std::string::npos && fill(end + 3))
                break;
            if (!fill(pending.size() + 1))
                return "<timeout>";
        }
        auto end = pending.find('#');
        f.feed(pending.substr(0, end + 3), frames);
        pending.erase(0, end + 3);
        if (frames.size() != 1 || frames[0].kind != rsp::frame_kind::packet)
            return "<bad frame>";
        return frames[0].payload;
    }
};

TEST_F(server_fixture, acks_resends_checksums_no_ack_oversize_interrupt) {
    send("+" + packet("qSupported:multiprocess+;swbreak+"));
    EXPECT_EQ(next_byte(), '+');
    std::string sup = next_packet();
    EXPECT_NE(sup.find("PacketSize=4000"), std::string::npos) << sup;
    send("+");

    // A resend request gets the same packet again.
    send(packet("vMustReplyEmpty"));
    EXPECT_EQ(next_byte(), '+');
    EXPECT_EQ(next_packet(), "");
    send("-");
    EXPECT_EQ(next_packet(), "");
    send("+");

    // A bad checksum is refused with '-', and nothing else happens.
    send("$g#00");
    EXPECT_EQ(next_byte(), '-');

    // A packet in three pieces, with noise before it.
    send("noise$");
    std::this_thread::sleep_for(20ms);
    send("?#");
    std::this_thread::sleep_for(20ms);
    send("3f");
    EXPECT_EQ(next_byte(), '+');
    EXPECT_EQ(next_packet().substr(0, 3), "T05");
    send("+");

    // Malformed and oversize packets: E09, and the connection stays usable.
    send(packet("mzz,4"));
    EXPECT_EQ(next_byte(), '+');
    EXPECT_EQ(next_packet(), "E09");
    send("+" + packet(std::string(20000, 'a')));
    EXPECT_EQ(next_byte(), '+');
    EXPECT_EQ(next_packet(), "E09");
    send("+");

    // No-ack mode: the OK is the last packet with an ack either way.
    send(packet("QStartNoAckMode"));
    EXPECT_EQ(next_byte(), '+');
    EXPECT_EQ(next_packet(), "OK");
    send("+" + packet("m10004,2"));
    EXPECT_EQ(next_packet(), "0100"); // no '+' before it
    send("$g#00");                    // bad checksum: ignored without an ack
    send(packet("vCont;c"));
    std::this_thread::sleep_for(50ms);
    send("\x03");
    std::string stop = next_packet();
    EXPECT_EQ(stop.substr(0, 3), "T02") << stop;
    EXPECT_TRUE(pending.empty()) << pending;
}

} // namespace
