// A blocking JSON-RPC client over a real TCP socket for the integration tests: both framings,
// every read with a deadline (poll), and helpers to wait for a response among notifications.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::test {

using json = nlohmann::json;

class rpc_test_client {
public:
    enum class framing { line, content_length };

    // Connects to 127.0.0.1:port; throws std::runtime_error on failure. `receive_buffer` > 0
    // sets SO_RCVBUF before connecting (a small one makes a stalled reader stall quickly).
    rpc_test_client(uint16_t port, framing f = framing::line, int receive_buffer = 0);
    ~rpc_test_client();
    rpc_test_client(const rpc_test_client&) = delete;
    rpc_test_client& operator=(const rpc_test_client&) = delete;

    // Sends `text` framed; raw() sends bytes as they are.
    void send(const std::string& text);
    void raw(const std::string& bytes);
    // The next message, or nothing when none arrived before the deadline (or the peer closed).
    std::optional<json> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Sends a request with a fresh id and waits for its response; notifications that arrive
    // meanwhile are kept in `notifications`. Throws on timeout.
    json call(const std::string& method, json params = json::object(),
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Waits for the next notification named `method` (also taking kept ones first).
    std::optional<json> wait_notification(const std::string& method,
                                          std::chrono::milliseconds timeout);
    // True when the peer closed the connection (read returned 0) before the deadline.
    bool wait_closed(std::chrono::milliseconds timeout);

    std::vector<json> notifications;

private:
    bool fill(std::chrono::steady_clock::time_point deadline);
    std::optional<std::string> next_frame();

    int fd_ = -1;
    framing framing_;
    std::string buffer_;
    int64_t next_id_ = 1;
    bool closed_ = false;
};

} // namespace ruprobes::test
