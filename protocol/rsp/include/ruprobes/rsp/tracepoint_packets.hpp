// The arguments of gdb's tracepoint packets (GDB manual E.6 "Tracepoint Packets"): what follows
// `QTDP:`, `QTDV:`, `QTFrame:` and `QTro:`. Pure parsing: the server layer keeps the state.
// Every parser returns nothing on malformed input (the server answers `E..`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ruprobes::rsp {

// One action of a tracepoint (QTDP:-…): R (registers), M (memory), X (agent expression).
struct tracepoint_action {
    char kind = 'R';
    uint64_t register_mask = 0;    // R: bits 0..63 of gdb's register mask (x0..x31, pc, f0..)
    bool mask_beyond_64 = false;   // R: a register numbered 64 or more is asked for too
    int64_t base_register = -1;    // M: -1 absolute, else the register the offset adds to
    uint64_t offset = 0;           // M
    uint64_t length = 0;           // M
    std::vector<uint8_t> bytecode; // X
    std::string text;              // as gdb sent it (qTfP uploads it back)
};

// QTDP:n:… (a new tracepoint) or QTDP:-n:… (more actions for it).
struct tracepoint_packet {
    bool continuation = false; // `-n:addr:actions`
    uint32_t number = 0;
    uint64_t address = 0;
    bool enabled = true;
    uint64_t step_count = 0;
    uint64_t passcount = 0;
    bool fast = false;                             // F…: a fast tracepoint
    std::optional<std::vector<uint8_t>> condition; // X len,bytes
    bool stepping = false; // continuation: the actions are while-stepping ones (S)
    std::vector<tracepoint_action> actions;
    bool more = false; // a `-` at the end: more QTDP packets follow for this tracepoint
};

// The arguments after "QTDP:". Caps: at most 64 actions of at most 4096 bytecode bytes.
std::optional<tracepoint_packet> parse_tracepoint_packet(std::string_view args);

// QTDV:n:value:builtin:name (name hex-encoded).
struct trace_variable_packet {
    uint32_t number = 0;
    uint64_t initial = 0; // as gdb sends it: a 64-bit two's complement in hex
    bool builtin = false;
    std::string name; // decoded
};
std::optional<trace_variable_packet> parse_trace_variable_packet(std::string_view args);

// QTFrame:n / pc:addr / tdp:t / range:start:end / outside:start:end.
struct trace_frame_packet {
    enum class kind { number, pc, tracepoint, range, outside } what = kind::number;
    int64_t number = 0; // number: -1 (ffffffff) stops looking at frames
    uint64_t start = 0; // pc, tdp (the tracepoint number), range, outside
    uint64_t end = 0;   // range, outside (inclusive)
};
std::optional<trace_frame_packet> parse_trace_frame_packet(std::string_view args);

// What follows `QTro:`: start,end:start,end… (read-only ranges, end exclusive); may be empty.
std::optional<std::vector<std::pair<uint64_t, uint64_t>>>
parse_readonly_ranges(std::string_view args);

} // namespace ruprobes::rsp
