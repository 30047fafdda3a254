// A blocking JSON-RPC 2.0 client over TCP for the `ruprobes` CLI: one JSON value per line (the
// framing ruprobesd detects from the first byte), requests answered in order, notifications
// that arrive in between kept for next_notification(). Plain POSIX sockets: no Asio, so the CLI
// compiles fast and has no thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>

namespace ruprobes::cli {

using json = nlohmann::json;

// The daemon answered a call with a JSON-RPC error object.
class rpc_error : public std::runtime_error {
public:
    rpc_error(int code, const std::string& message, json data)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}
    int code() const { return code_; }
    const json& data() const { return data_; }

private:
    int code_;
    json data_;
};

// The daemon is not reachable, closed the connection, sent something that is not JSON-RPC, or
// did not answer in time.
class connection_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class rpc_client {
public:
    // Connects to HOST:PORT; `timeout` bounds the connect and every call. Throws
    // connection_error when the daemon is not reachable.
    rpc_client(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);
    ~rpc_client();
    rpc_client(const rpc_client&) = delete;
    rpc_client& operator=(const rpc_client&) = delete;

    // Calls `method` with named `params` (null: none) and returns its result. Throws rpc_error
    // for an error answer and connection_error when the connection fails or the deadline passes.
    json call(const std::string& method, const json& params = nullptr);

    // The next notification (the whole message, with "method" and "params"), waiting at most
    // `timeout`; nothing when none arrived in time or when interrupted by a signal. Throws
    // connection_error when the connection fails.
    std::optional<json> next_notification(std::chrono::milliseconds timeout);

    // "HOST:PORT" this client talks to (for messages).
    const std::string& peer() const { return peer_; }

private:
    // Reads one message until `deadline`; false on timeout or signal.
    bool read_message(std::chrono::steady_clock::time_point deadline, json& out);
    void send_line(const std::string& line);

    int fd_ = -1;
    std::string peer_;
    std::chrono::milliseconds timeout_;
    std::string buffer_;
    size_t scan_from_ = 0;
    std::deque<json> notifications_;
    int64_t next_id_ = 1;
};

// "message (code N): data" for people.
std::string describe(const rpc_error& e);

} // namespace ruprobes::cli
