// Fuzz target: the JSON-RPC framing + request parser + dispatcher, as a connection sees them.
// Input byte 0 picks the read size; the rest is the byte stream a client sent. Every response
// must be valid JSON; the reader's memory must stay bounded.
#include "ruprobes/jsonrpc/dispatcher.hpp"
#include "ruprobes/jsonrpc/framing.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using namespace ruprobes::jsonrpc;

const method_table& methods() {
    static method_table table = [] {
        method_table t;
        t.add_sync("probe.add", [](const json& params, call_context*) -> outcome {
            param_reader p(params);
            auto program = p.string("program", required);
            auto symbol = p.string("symbol", optional_param);
            auto address = p.u64("address", optional_param);
            auto pid = p.i64("pid", optional_param);
            auto stopped = p.boolean("stopped", optional_param);
            const json* kinds = p.array("kinds", optional_param);
            if (!p.ok())
                return p.error();
            return json{{"program", *program},
                        {"address", hex_u64(address.value_or(0))},
                        {"symbol", symbol.value_or("")},
                        {"pid", pid.value_or(-1)},
                        {"stopped", stopped.value_or(false)},
                        {"kinds", kinds ? kinds->size() : 0}};
        });
        t.add_sync("echo", [](const json& params, call_context*) -> outcome { return params; });
        t.add("later", [](call& c) { c.respond(json("late")); });
        return t;
    }();
    return table;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    const size_t chunk = 1 + data[0] % 64;
    data++;
    size--;
    constexpr size_t limit = 4096;
    frame_reader reader(limit);
    dispatcher d(methods());
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
            d.dispatch(e.body, nullptr, [](std::string response) {
                if (response.empty())
                    return;
                json parsed = json::parse(response, nullptr, false);
                if (parsed.is_discarded())
                    std::abort();
                // The reply must echo into something a second parse accepts as well.
                (void)encode_frame(framing::content_length, response);
            });
        }
    }
    return 0;
}
