// GDB Remote Serial Protocol, connection layer, packet side: a decoded payload becomes a typed
// request (GDB manual, appendix E.2 "Packets", E.4 "General Query Packets"); parse errors are
// values, never exceptions or asserts, so the server answers them with `E..`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ruprobes::rsp {

// A thread-id as gdb sends it: `pPID.TID`, `pPID`, `TID`, with -1 = all and 0 = any.
struct thread_ref {
    static constexpr int64_t all = -1;
    static constexpr int64_t any = 0;
    std::optional<int64_t> pid; // absent when the client did not use the multiprocess form
    int64_t tid = any;          // `pPID` alone means every thread of PID (all)
};

// ---- typed requests ----------------------------------------------------------------------------
struct halt_reason_req {};    // ?
struct read_registers_req {}; // g
struct write_registers_req {
    std::vector<uint8_t> bytes;
}; // G XX…
struct read_register_req {
    unsigned regno = 0;
}; // p n
struct write_register_req {
    unsigned regno = 0;
    std::vector<uint8_t> bytes;
}; // P n=r…
struct read_memory_req {
    uint64_t addr = 0;
    uint64_t len = 0;
}; // m addr,length
struct write_memory_req {
    uint64_t addr = 0;
    std::vector<uint8_t> bytes;
};                      // M addr,len:XX… / X
struct breakpoint_req { // Z/z type,addr,kind[;cond…]
    bool insert = true;
    unsigned type = 0; // 0 software, 1 hardware, 2-4 watchpoints
    uint64_t addr = 0;
    uint64_t kind = 0;
    std::string conditions; // everything after the first ';' (target-side conditions)
    // The agent expressions of the `X len,bytes` entries of `conditions`, in order.
    std::vector<std::vector<uint8_t>> condition_exprs;
};
struct resume_action {
    char action = 'c'; // c, C, s, S, t (stop), r (range step)
    int signal = 0;
    std::optional<thread_ref> thread; // none: every thread without an explicit action
    uint64_t range_start = 0, range_end = 0;
};
struct continue_req {
    std::vector<resume_action> actions;
}; // c / C / s / S / vCont;…
struct set_thread_req {
    char op = 'g';
    thread_ref thread;
}; // Hg / Hc
struct thread_alive_req {
    thread_ref thread;
}; // T thread-id
struct kill_req {
    std::optional<int64_t> pid;
}; // k / vKill;pid
struct detach_req {
    std::optional<int64_t> pid;
};                           // D / D;pid
struct extended_mode_req {}; // !
struct run_req {
    std::vector<std::string> argv;
}; // vRun;hexfile;hexarg…
struct attach_req {
    int64_t pid = 0;
};                         // vAttach;pid
struct vcont_query_req {}; // vCont?
// q/Q packets other than the ones above: `name` up to the first ':' or ','; `args` after it.
struct query_req {
    bool set = false; // Q
    std::string name;
    std::string args;
};
// qXfer:object:read:annex:offset,length
struct xfer_read_req {
    std::string object;
    std::string annex;
    uint64_t offset = 0;
    uint64_t length = 0;
};
struct unknown_req {
    std::string payload;
}; // answered with an empty packet
struct malformed_req {
    std::string why;
}; // answered with E..

using request =
    std::variant<unknown_req, malformed_req, halt_reason_req, read_registers_req,
                 write_registers_req, read_register_req, write_register_req, read_memory_req,
                 write_memory_req, breakpoint_req, continue_req, set_thread_req, thread_alive_req,
                 kill_req, detach_req, extended_mode_req, run_req, attach_req, vcont_query_req,
                 query_req, xfer_read_req>;

// The typed request of a decoded payload. Never fails: unknown packets are unknown_req and
// packets of a known type with bad arguments are malformed_req.
request parse_request(std::string_view payload);

// ---- pieces, exposed for the server layer and the tests ---------------------------------------
// Strict hex number (1 to 16 digits, no sign); nothing otherwise.
std::optional<uint64_t> parse_hex(std::string_view text);
// Hex number with an optional leading '-' (thread ids: -1).
std::optional<int64_t> parse_signed_hex(std::string_view text);
std::optional<thread_ref> parse_thread_ref(std::string_view text);
// Pairs of hex digits to bytes; nothing on an odd length or a non-hex digit.
std::optional<std::vector<uint8_t>> parse_hex_bytes(std::string_view text);
// Bytes as lower-case hex pairs.
std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const std::vector<uint8_t>& bytes) {
    return to_hex(bytes.data(), bytes.size());
}
// A string as hex pairs (qXfer-free strings: vRun arguments, qRcmd output).
std::string string_to_hex(std::string_view text);
// `value` as little-endian hex of `size` bytes (register values in g/p replies).
std::string le_hex(uint64_t value, unsigned size = 8);
// Little-endian bytes to a number (at most 8).
uint64_t le_value(const uint8_t* data, size_t len);
// `pPID.TID` in lower-case hex as stop replies and thread lists write it.
std::string format_thread(int64_t pid, int64_t tid);

} // namespace ruprobes::rsp
