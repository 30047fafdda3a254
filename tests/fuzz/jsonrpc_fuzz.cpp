// Fuzz target: the JSON-RPC framing + request parser + dispatcher, as a connection sees them.
// Input byte 0 picks the read size and whether calls start at once or later (as a session that
// lets only a few run does); the rest is the byte stream a client sent. Every response must be
// valid JSON; the reader's memory must stay bounded whatever the Content-Length says; a message
// nested deeper than the limit, or a batch larger than the limit, gets exactly one -32600 error
// naming the limit, before anything walks it.
#include "ruprobes/jsonrpc/dispatcher.hpp"
#include "ruprobes/jsonrpc/framing.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

namespace {

using namespace ruprobes::jsonrpc;

const method_table& methods() {
    static method_table table = [] {
        method_table t;
        t.add_sync("probe.add", [](const json& params, call_context*) -> method_result {
            param_reader p(params);
            auto program = p.string("program", required);
            auto symbol = p.string("symbol", optional_param);
            auto address = p.u64("address", optional_param);
            auto pid = p.i64("pid", optional_param);
            auto stopped = p.boolean("stopped", optional_param);
            const json* kinds = p.array("kinds", optional_param);
            if (!p.ok())
                return fail(p.error());
            return json{{"program", *program},
                        {"address", hex_u64(address.value_or(0))},
                        {"symbol", symbol.value_or("")},
                        {"pid", pid.value_or(-1)},
                        {"stopped", stopped.value_or(false)},
                        {"kinds", kinds ? kinds->size() : 0}};
        });
        t.add_sync("echo",
                   [](const json& params, call_context*) -> method_result { return params; });
        t.add("later", [](call& c) { c.respond(json("late")); });
        return t;
    }();
    return table;
}

// A connection that starts calls later, in order (the daemon's sessions cap running calls).
struct deferring_context : call_context {
    std::vector<std::function<void()>> waiting;
    std::size_t running = 0;
    void schedule(std::function<void()> start) override {
        running++;
        waiting.push_back(std::move(start));
    }
    void call_finished() override {
        if (running == 0)
            std::abort(); // more answers than calls
        running--;
    }
    void run_all() {
        while (!waiting.empty()) {
            auto batch = std::move(waiting);
            waiting.clear();
            for (auto& start : batch)
                start();
        }
    }
};

// The response to a message over a limit: one error object, -32600, data.limit = `limit`.
void check_limit_error(const std::string& response, std::size_t limit) {
    json r = json::parse(response, nullptr, false);
    if (!r.is_object() || !r.contains("error") || r["error"]["code"] != invalid_request ||
        r["error"]["data"]["limit"] != limit)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    const size_t chunk = 1 + data[0] % 64;
    const bool deferred = (data[0] & 0x80) != 0;
    data++;
    size--;
    constexpr size_t limit = 4096;
    frame_reader reader(limit);
    dispatcher d(methods());
    auto context = std::make_shared<deferring_context>();
    for (size_t i = 0; i < size; i += chunk) {
        size_t n = size - i < chunk ? size - i : chunk;
        reader.feed(std::string_view(reinterpret_cast<const char*>(data + i), n));
        for (;;) {
            frame_event e = reader.next();
            if (e.what == frame_event::kind::need_more || e.what == frame_event::kind::bad_header)
                break;
            if (e.what == frame_event::kind::oversized) {
                if (e.size <= limit)
                    std::abort();
                continue;
            }
            if (e.body.size() > limit)
                std::abort();
            const bool too_deep = nesting_depth(e.body, max_nesting_depth) > max_nesting_depth;
            json whole = too_deep ? json() : json::parse(e.body, nullptr, false);
            const bool too_many = whole.is_array() && whole.size() > max_batch_size;
            bool answered = false;
            d.dispatch(e.body, deferred ? std::shared_ptr<call_context>(context) : nullptr,
                       [&answered, too_deep, too_many](std::string response) {
                           answered = true;
                           if (too_deep)
                               check_limit_error(response, max_nesting_depth);
                           else if (too_many)
                               check_limit_error(response, max_batch_size);
                           if (response.empty())
                               return;
                           json parsed = json::parse(response, nullptr, false);
                           if (parsed.is_discarded())
                               std::abort();
                           // The reply must echo into something a second parse accepts as well.
                           (void)encode_frame(framing::content_length, response);
                       });
            context->run_all();
            if (!answered || context->running != 0)
                std::abort(); // every message is answered once its calls ran
        }
        // Bounded whatever the peer claims: at most a header block, one message and one read.
        if (reader.buffered() > limit + 8192 + 2 * chunk)
            std::abort();
    }
    return 0;
}
