// rpc_client against a scripted peer on a loopback socket (port 0): requests are one JSON value
// per line, notifications that arrive before an answer are kept, error objects become
// rpc_error, a closed connection or a silent peer becomes connection_error.
#include "cli/rpc_client.hpp"

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
        rpc_client c("127.0.0.1", peer.port(), 5s);
        json r = c.call("target.status");
        EXPECT_EQ(r, json({{"connected", true}}));
        auto n = c.next_notification(0ms);
        ASSERT_TRUE(n.has_value());
        EXPECT_EQ((*n)["method"], "probe.hit");
        EXPECT_FALSE(c.next_notification(50ms).has_value());
    }
    EXPECT_EQ(seen["jsonrpc"], "2.0");
    EXPECT_EQ(seen["method"], "target.status");
    EXPECT_EQ(seen["id"], 1);
    EXPECT_FALSE(seen.contains("params"));
}

TEST(rpc_client, error_objects_become_rpc_error_with_data) {
    scripted_peer peer([](scripted_peer& p) {
        json req = p.read_request();
        EXPECT_EQ(req["params"]["id"], 7);
        p.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32002,\"message\":\"No such "
               "probe\",\"data\":{\"errc\":\"no_such_probe\",\"reason\":\"no trace probe 7\"}}}\n");
        p.read_request();
    });
    rpc_client c("127.0.0.1", peer.port(), 5s);
    try {
        c.call("probe.remove", {{"id", 7}});
        FAIL() << "no rpc_error";
    } catch (const rpc_error& e) {
        EXPECT_EQ(e.code(), -32002);
        EXPECT_EQ(describe(e), "No such probe (code -32002): no trace probe 7\n  data: "
                               "{\"errc\":\"no_such_probe\",\"reason\":\"no trace probe 7\"}");
    }
}

TEST(rpc_client, closed_connection_silent_peer_and_nothing_listening) {
    scripted_peer closing([](scripted_peer& p) { p.read_request(); });
    rpc_client c("127.0.0.1", closing.port(), 5s);
    EXPECT_THROW(c.call("probe.list"), connection_error);

    scripted_peer silent([](scripted_peer& p) {
        p.read_request();
        p.read_request(); // no answer; returns when the client closes
    });
    {
        rpc_client s("127.0.0.1", silent.port(), 200ms);
        EXPECT_THROW(s.call("probe.list"), connection_error);
    }

    uint16_t unused = 0;
    {
        scripted_peer gone([](scripted_peer&) {});
        unused = gone.port();
        rpc_client g("127.0.0.1", unused, 1s); // accepted, then the peer closes
    }
    EXPECT_THROW(rpc_client("127.0.0.1", unused, 1s), connection_error);
}

} // namespace
} // namespace ruprobes::cli
