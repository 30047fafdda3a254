// A blocking JSON-RPC 2.0 client over TCP for the `ruprobes` CLI: one JSON value per line (the
// framing ruprobesd detects from the first byte), requests answered in order, notifications
// that arrive in between kept for next_notification(). Plain POSIX sockets: no Asio, so the CLI
// compiles fast and has no thread.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace ruprobes::cli {

using json = nlohmann::json;

// How a call failed.
enum class call_errc {
    error_answer, // the daemon answered with a JSON-RPC error object (call_error::answer)
    unreachable,  // the daemon is not reachable, closed the connection, sent something that is
                  // not JSON-RPC, or did not answer in time (call_error::message)
};

// Why a call failed.
struct call_error {
    call_errc errc = call_errc::unreachable;
    jsonrpc::rpc_error answer; // error_answer: the daemon's error object
    std::string message;       // unreachable: what went wrong, for people
};

// The value of a call, or why it failed: the daemon's result type (tl::expected) on the CLI's
// side of the connection.
template <typename T>
using call_result = tl::expected<T, call_error>;

class rpc_client {
public:
    // Connects to HOST:PORT; `timeout` bounds the connect and every call. Fails (unreachable)
    // when the daemon is not reachable.
    static call_result<rpc_client> connect(const std::string& host, uint16_t port,
                                           std::chrono::milliseconds timeout);
    ~rpc_client();
    rpc_client(rpc_client&& other) noexcept;
    rpc_client& operator=(rpc_client&&) = delete;
    rpc_client(const rpc_client&) = delete;
    rpc_client& operator=(const rpc_client&) = delete;

    // Calls `method` with named `params` (null: none) and returns its result. Fails with
    // error_answer for an error object and unreachable when the connection fails or the
    // deadline passes.
    call_result<json> call(const std::string& method, const json& params = nullptr);

    // The next notification (the whole message, with "method" and "params"), waiting at most
    // `timeout`; nothing when none arrived in time or when interrupted by a signal. Fails
    // (unreachable) when the connection fails.
    call_result<std::optional<json>> next_notification(std::chrono::milliseconds timeout);

    // "HOST:PORT" this client talks to (for messages).
    const std::string& peer() const { return peer_; }

private:
    rpc_client(std::string peer, std::chrono::milliseconds timeout)
        : peer_(std::move(peer)), timeout_(timeout) {}
    // Reads one message until `deadline`; false on timeout or signal.
    call_result<bool> read_message(std::chrono::steady_clock::time_point deadline, json& out);
    call_result<void> send_line(const std::string& line);

    int fd_ = -1;
    std::string peer_;
    std::chrono::milliseconds timeout_;
    std::string buffer_;
    size_t scan_from_ = 0;
    std::deque<json> notifications_;
    int64_t next_id_ = 1;
};

// "message (code N): data" for people.
std::string describe(const jsonrpc::rpc_error& e);

// What `ruprobes` prints for a failed call (after "ruprobes: ") and the exit code it ends with:
// "error from ruprobesd: " + describe(answer) and exit_failed for an error answer, the message
// and exit_unreachable for a failed connection.
std::string describe(const call_error& e);
int exit_code_of(const call_error& e);

} // namespace ruprobes::cli
