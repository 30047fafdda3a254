// rpc_client against a scripted peer on a loopback socket (port 0): requests are one JSON value
// per line, notifications that arrive before an answer are kept, error objects fail the call
// as error_answer (exit code 1), a closed connection or a silent peer as unreachable (3).
#include "cli/rpc_client.hpp"

#include "cli/cli_options.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ruprobes::cli {
namespace {

using namespace std::chrono_literals;

// A one-connection server: `script` runs on its own thread with the accepted socket.
class scripted_peer {
public:
    explicit scripted_peer(std::function<void(scripted_peer&)> script) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        socklen_t len = sizeof a;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        ::listen(listener_, 1);
        thread_ = std::thread([this, script] {
            fd_ = ::accept(listener_, nullptr, nullptr);
            script(*this);
            ::close(fd_);
        });
    }
    ~scripted_peer() {
        thread_.join();
        ::close(listener_);
    }
    uint16_t port() const { return port_; }

    // The next line the client sent, parsed.
    json read_request() {
        std::string line;
        char c;
        while (::recv(fd_, &c, 1, 0) == 1 && c != '\n')
            line += c;
        return line.empty() ? json() : json::parse(line);
    }
    void send(const std::string& text) { ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }

private:
    int listener_ = -1;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
};

TEST(rpc_client, call_keeps_notifications_that_arrive_before_the_answer) {
    json seen;
    scripted_peer peer([&](scripted_peer& p) {
        seen = p.read_request();
        // A notification, a stale answer, then the answer split over two writes.
        p.send("{\"jsonrpc\":\"2.0\",\"method\":\"probe.hit\",\"params\":{\"probe\":1}}\n\n");
        p.send("{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":0}\n{\"jsonrpc\":\"2.0\",\"id\":");
        std::this_thread::sleep_for(20ms);
        p.send("1,\"result\":{\"connected\":true}}\n");
        p.read_request(); // until the client closes
    });
    {
        auto c = rpc_client::connect("127.0.0.1", peer.port(), 5s);
        ASSERT_TRUE(c.has_value()) << describe(c.error());
        auto r = c->call("target.status");
        ASSERT_TRUE(r.has_value()) << describe(r.error());
        EXPECT_EQ(*r, json({{"connected", true}}));
        auto n = c->next_notification(0ms);
        ASSERT_TRUE(n.has_value() && n->has_value());
        EXPECT_EQ((**n)["method"], "probe.hit");
        auto none = c->next_notification(50ms);
        ASSERT_TRUE(none.has_value());
        EXPECT_FALSE(none->has_value());
    }
    EXPECT_EQ(seen["jsonrpc"], "2.0");
    EXPECT_EQ(seen["method"], "target.status");
    EXPECT_EQ(seen["id"], 1);
    EXPECT_FALSE(seen.contains("params"));
}

TEST(rpc_client, error_objects_fail_the_call_with_their_data) {
    scripted_peer peer([](scripted_peer& p) {
        json req = p.read_request();
        EXPECT_EQ(req["params"]["id"], 7);
        p.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32002,\"message\":\"No such "
               "probe\",\"data\":{\"errc\":\"no_such_probe\",\"reason\":\"no trace probe 7\"}}}\n");
        p.read_request();
    });
    auto c = rpc_client::connect("127.0.0.1", peer.port(), 5s);
    ASSERT_TRUE(c.has_value()) << describe(c.error());
    auto r = c->call("probe.remove", {{"id", 7}});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().errc, call_errc::error_answer);
    EXPECT_EQ(r.error().answer.code, -32002);
    EXPECT_EQ(describe(r.error()),
              "error from ruprobesd: No such probe (code -32002): no trace probe 7\n  data: "
              "{\"errc\":\"no_such_probe\",\"reason\":\"no trace probe 7\"}");
    EXPECT_EQ(exit_code_of(r.error()), exit_failed);
}

TEST(rpc_client, closed_connection_silent_peer_and_nothing_listening) {
    scripted_peer closing([](scripted_peer& p) { p.read_request(); });
    auto c = rpc_client::connect("127.0.0.1", closing.port(), 5s);
    ASSERT_TRUE(c.has_value()) << describe(c.error());
    auto closed = c->call("probe.list");
    ASSERT_FALSE(closed.has_value());
    EXPECT_EQ(closed.error().errc, call_errc::unreachable);
    EXPECT_EQ(describe(closed.error()), "ruprobesd at 127.0.0.1:" + std::to_string(closing.port()) +
                                            " closed the connection");
    EXPECT_EQ(exit_code_of(closed.error()), exit_unreachable);

    scripted_peer silent([](scripted_peer& p) {
        p.read_request();
        p.read_request(); // no answer; returns when the client closes
    });
    {
        auto s = rpc_client::connect("127.0.0.1", silent.port(), 200ms);
        ASSERT_TRUE(s.has_value()) << describe(s.error());
        auto r = s->call("probe.list");
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().errc, call_errc::unreachable);
        EXPECT_NE(r.error().message.find("did not answer probe.list"), std::string::npos)
            << r.error().message;
    }

    uint16_t unused = 0;
    {
        scripted_peer gone([](scripted_peer&) {});
        unused = gone.port();
        auto g = rpc_client::connect("127.0.0.1", unused, 1s); // accepted, then the peer closes
        EXPECT_TRUE(g.has_value());
    }
    auto refused = rpc_client::connect("127.0.0.1", unused, 1s);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().errc, call_errc::unreachable);
    EXPECT_NE(refused.error().message.find("cannot connect to ruprobesd at 127.0.0.1:"),
              std::string::npos)
        << refused.error().message;
}

TEST(rpc_client, text_that_is_not_json_fails_the_call_as_unreachable) {
    scripted_peer peer([](scripted_peer& p) {
        p.read_request();
        p.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\n");
        p.read_request();
    });
    auto c = rpc_client::connect("127.0.0.1", peer.port(), 5s);
    ASSERT_TRUE(c.has_value()) << describe(c.error());
    auto r = c->call("probe.list");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().errc, call_errc::unreachable);
    EXPECT_NE(r.error().message.find(" sent invalid JSON: "), std::string::npos)
        << r.error().message;
}

} // namespace
} // namespace ruprobes::cli
