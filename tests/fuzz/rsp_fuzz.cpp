// libFuzzer target: the RSP connection layer (framer, payload decoding, typed requests, encoder)
// on arbitrary client bytes. Invariants checked: nothing crashes, every packet the encoder
// writes frames back to the same payload.
#include "ruprobes/rsp/framer.hpp"
#include "ruprobes/rsp/request.hpp"
#include "ruprobes/rsp/tracepoint_packets.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    // Split the stream at a data-chosen point: partial reads must not change the result.
    size_t cut = size == 0 ? 0 : data[0] % size;
    ruprobes::rsp::framer whole(256), split(256);
    std::vector<ruprobes::rsp::frame> a, b;
    whole.feed(input, a);
    split.feed(input.substr(0, cut), b);
    split.feed(input.substr(cut), b);
    if (a.size() != b.size())
        std::abort();
    for (size_t i = 0; i < a.size(); i++) {
        if (a[i].kind != b[i].kind || a[i].payload != b[i].payload)
            std::abort();
        if (a[i].kind != ruprobes::rsp::frame_kind::packet)
            continue;
        (void)ruprobes::rsp::parse_request(a[i].payload);
        for (bool rle : {false, true}) {
            ruprobes::rsp::framer again(1 << 20);
            std::vector<ruprobes::rsp::frame> c;
            again.feed(ruprobes::rsp::encode_packet(a[i].payload, rle), c);
            if (c.size() != 1 || c[0].kind != ruprobes::rsp::frame_kind::packet ||
                c[0].payload != a[i].payload)
                std::abort();
        }
    }
    // The input as one payload, too: parse_request sees every byte pattern, and so do the
    // tracepoint packets' parsers (what follows QTDP:, QTDV:, QTFrame:, QTro:).
    (void)ruprobes::rsp::parse_request(input);
    if (auto t = ruprobes::rsp::parse_tracepoint_packet(input)) {
        if (t->actions.size() > 64)
            std::abort();
        for (const auto& a : t->actions)
            if (a.bytecode.size() > 4096 || a.text.size() > input.size())
                std::abort();
    }
    (void)ruprobes::rsp::parse_trace_variable_packet(input);
    (void)ruprobes::rsp::parse_trace_frame_packet(input);
    (void)ruprobes::rsp::parse_readonly_ranges(input);
    return 0;
}
