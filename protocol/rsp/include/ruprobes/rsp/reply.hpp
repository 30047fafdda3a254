// RSP connection layer, the answering direction: every reply payload the server sends, typed
// (GDB manual, appendix E: E.1 "Packets", E.3 "Stop Reply Packets"). request.hpp decodes what
// gdb sends; the server layer (stub/rsp) decides what to answer and never spells a packet.
// Payloads only: framing ($…#cs) and escaping are the framer's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ruprobes::rsp::replies {

// "OK".
std::string ok();
// "": the packet, or this form of it, is not supported.
std::string unsupported();
// "Exx": error number `code` (its low byte) as two hex digits.
std::string error(unsigned code);
// "E.text": an error gdb shows as text ("Remote failure reply: E.text").
std::string error_text(std::string_view text);

// A register a stop reply carries, so that gdb needs no g packet after the stop.
struct expedited_register {
    unsigned regno;
    uint64_t value; // sent as 8 little-endian bytes
};

struct stop {
    unsigned signal = 0; // in gdb's numbering
    int64_t pid = 0;
    int64_t tid = 0;
    std::vector<expedited_register> registers; // in this order
    bool software_breakpoint = false;          // swbreak: (a breakpoint instruction was hit)
};

// Stop reply "TAAthread:pPID.TID;n:r;…[swbreak:;]" (multiprocess form, registers as
// target-order hex).
std::string stop_reply(const stop& s);
// The process exited with `code`: "WAA;process:PID" ("WAA" alone for a negative pid: no
// process).
std::string exit_code(int code, int64_t pid);
// The process was ended by `signal` (gdb's numbering): "XAA;process:PID".
std::string exit_signal(unsigned signal, int64_t pid);

// g: every register as 8 little-endian bytes, in order.
std::string registers(std::span<const uint64_t> values);
// p: one register as `size` little-endian bytes (at most 8).
std::string register_value(uint64_t value, unsigned size = 8);
// m: bytes as hex pairs.
std::string memory(std::span<const uint8_t> bytes);

// qfThreadInfo/qsThreadInfo: "mpP.T,pP.T,…" with threads from the front of `threads` until
// the payload passes `max_size` bytes; `used` says how many went in. "l" when `threads` is
// empty (the end of the list).
std::string thread_list(std::span<const std::pair<int64_t, int64_t>> threads, size_t max_size,
                        size_t& used);
// qC: "QCpPID.TID".
std::string current_thread(int64_t pid, int64_t tid);
// qAttached: "1" (attached to an existing process) or "0" (created by the server).
std::string attached(bool attached_to_existing);
// "O" + hex: text gdb prints on its console (qRcmd output).
std::string console_output(std::string_view text);
// qXfer:…:read: at most `length` bytes of `doc` from `offset`, "m…", or "l…" for the last chunk
// ("l" alone past the end).
std::string xfer_chunk(std::string_view doc, uint64_t offset, uint64_t length);

} // namespace ruprobes::rsp::replies
