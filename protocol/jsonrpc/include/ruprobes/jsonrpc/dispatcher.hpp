// The method table and the dispatcher: one message text in, at most one response text out
// (a single response, a batch array, or nothing when only notifications came in).
//
// Handlers complete through a callback so that a method can wait for the target (the kernel) and
// answer later; the dispatcher joins the answers of a batch into one array. Handlers run on the
// caller's thread; nothing here locks.
#pragma once

#include "ruprobes/jsonrpc/message.hpp"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace ruprobes::jsonrpc {

// What a method produced: its result value, or the error object it is answered with.
using method_result = tl::expected<json, rpc_error>;

// Per-connection state a handler may need (the session that called); subclassed by servers.
struct call_context {
    virtual ~call_context() = default;
    // Runs `start` (one call of a message) now or later: a server may let only a few calls of one
    // connection run at once. Called once per call that has a method; the default runs it now.
    virtual void schedule(std::function<void()> start) { start(); }
    // One call started through schedule() has answered.
    virtual void call_finished() {}
};

// One call as a handler sees it. `respond` must be called exactly once (also for notifications:
// the answer is then dropped). It may be called after the handler returned.
struct call {
    const request& req;
    std::shared_ptr<call_context> context;
    std::function<void(method_result)> respond;
};

using async_method = std::function<void(call&)>;
using sync_method = std::function<method_result(const json& params, call_context* context)>;

class method_table {
public:
    // Adds or replaces the method `name`.
    void add(std::string name, async_method method);
    void add_sync(std::string name, sync_method method);
    // The method, or nullptr.
    const async_method* find(const std::string& name) const;

private:
    std::unordered_map<std::string, async_method> methods_;
};

class dispatcher {
public:
    explicit dispatcher(const method_table& methods) : methods_(methods) {}

    // Handles one message text. `send` is called exactly once, when every call of the message
    // has answered: with the response text (no framing), or with an empty string when nothing
    // is owed (only notifications). It may be called before dispatch returns or later.
    // A handler that throws is answered with -32603 (nlohmann type errors with -32602).
    void dispatch(std::string_view text, std::shared_ptr<call_context> context,
                  std::function<void(std::string)> send) const;

    // The error response for a message over the size limit (id null, -32600, data with sizes).
    static std::string oversized_response(std::size_t size, std::size_t limit);

private:
    const method_table& methods_;
};

} // namespace ruprobes::jsonrpc
