// The target model's vocabulary: what the daemon knows about the guest (processes, threads,
// registers, probes) and the events the guest reports. Plain data, no Asio: every part of the
// daemon may include it.
#pragma once

#include "channel/channel_types.hpp"
#include "ruprobes/wire/fetch.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ruprobes::target {

using pid_type = int64_t;
using tid_type = int64_t;
using probe_id = uint64_t;

// A thread of a process. In RSP it is `pPID.TID`; the main thread of a process has tid == pid.
struct thread_id {
    pid_type pid = 0;
    tid_type tid = 0;
    friend bool operator==(const thread_id&, const thread_id&) = default;
    friend auto operator<=>(const thread_id&, const thread_id&) = default;
};

// The user register file of an RV64 hart as gdb's org.gnu.gdb.riscv.cpu feature numbers it:
// x0..x31 are registers 0..31 (x[0] always reads 0), pc is register 32.
struct registers {
    std::array<uint64_t, 32> x{};
    uint64_t pc = 0;

    static constexpr int count = 33;
    static constexpr int pc_regno = 32;
    static constexpr int sp_regno = 2;
    static constexpr int ra_regno = 1;
    static constexpr int a0_regno = 10;
    // Register `regno` (0..32); 0 for a number out of range.
    uint64_t get(int regno) const {
        return regno == pc_regno ? pc : (regno >= 0 && regno < 32 ? x[regno] : 0);
    }
    // Sets register `regno` (0..32); false for a number out of range. Writes to x0 are ignored.
    bool set(int regno, uint64_t value) {
        if (regno == pc_regno)
            pc = value;
        else if (regno > 0 && regno < 32)
            x[regno] = value;
        else
            return regno == 0;
        return true;
    }
};

// The F/D registers of an RV64 hart and fcsr as gdb's org.gnu.gdb.riscv.fpu feature numbers
// them: f0..f31 are registers 33..64 (raw 64-bit values; singles are NaN-boxed), fflags, frm
// and fcsr are 66, 67 and 68 (three views of the one fcsr).
struct fp_registers {
    std::array<uint64_t, 32> f{};
    uint64_t fcsr = 0; // bits 0..4 fflags, 5..7 frm; the rest is zero

    static constexpr int first_regno = 33;
    static constexpr int fflags_regno = 66;
    static constexpr int frm_regno = 67;
    static constexpr int fcsr_regno = 68;
    static constexpr uint64_t fcsr_bits = 0xff;

    static bool has(int regno) {
        return (regno >= first_regno && regno < first_regno + 32) ||
               (regno >= fflags_regno && regno <= fcsr_regno);
    }
    // Register `regno` of this feature; 0 for a number it does not have.
    uint64_t get(int regno) const {
        if (regno >= first_regno && regno < first_regno + 32)
            return f[regno - first_regno];
        if (regno == fflags_regno)
            return fcsr & 0x1f;
        if (regno == frm_regno)
            return (fcsr >> 5) & 0x7;
        if (regno == fcsr_regno)
            return fcsr & fcsr_bits;
        return 0;
    }
    // Sets register `regno` (fflags and frm update their bits of fcsr); false for a number
    // this feature does not have.
    bool set(int regno, uint64_t value) {
        if (regno >= first_regno && regno < first_regno + 32)
            f[regno - first_regno] = value;
        else if (regno == fflags_regno)
            fcsr = (fcsr & ~uint64_t{0x1f}) | (value & 0x1f);
        else if (regno == frm_regno)
            fcsr = (fcsr & ~uint64_t{0xe0}) | ((value & 0x7) << 5);
        else if (regno == fcsr_regno)
            fcsr = value & fcsr_bits;
        else
            return false;
        return true;
    }
};

// Signal numbers as gdb's remote protocol numbers them (they match Linux for these).
namespace gdb_signal {
inline constexpr int none = 0;
inline constexpr int sigint = 2;
inline constexpr int sigill = 4;
inline constexpr int sigtrap = 5;
inline constexpr int sigkill = 9;
inline constexpr int sigsegv = 11;
inline constexpr int sigterm = 15;
inline constexpr int sigstop = 17;
} // namespace gdb_signal

struct target_status {
    bool connected = false;
    std::string kernel_version; // as the kernel reports it; empty when not connected
    std::string boot_id;        // changes on every boot of the guest
};

enum class process_state { running, stopped, exited };
const char* process_state_name(process_state state);

struct process_info {
    pid_type pid = 0;
    std::string program; // path in the guest, e.g. "/bin/fib"
    process_state state = process_state::running;
    // Runtime address = load_bias + ELF virtual address. 0 for the reference kernel's programs,
    // which are linked at fixed addresses; probes are keyed by program + ELF address (offset).
    uint64_t load_bias = 0;
};

enum class thread_state { running, stopped };

struct thread_info {
    thread_id id;
    thread_state state = thread_state::running;
};

// What a probe does when hit.
enum class probe_kind {
    insn,  // at one instruction
    entry, // at a function's first instruction
    ret,   // when the function whose entry is at the site returns
};
enum class probe_mode {
    trace,     // record an event, keep running
    stop,      // the thread stops and the host is told (a gdb breakpoint)
    aggregate, // counted into an in-kernel table (probe_spec::aggregation), nothing is sent
};
const char* probe_kind_name(probe_kind kind);
// Parses "insn" / "entry" / "return"; nothing for anything else.
std::optional<probe_kind> parse_probe_kind(const std::string& name);

// What an aggregation groups its hits by (`by`) or measures (`of`): nothing, the process or
// thread id, argument register a0..a7, or the return value (return probes).
struct aggregation_field {
    enum class source { none, pid, tid, arg, ret };
    source from = source::none;
    unsigned arg = 0; // 0..7 for source::arg
    bool operator==(const aggregation_field&) const = default;
};
// Parses "pid", "tid", "a0".."a7", "arg0".."arg7", "ret", "retval"; nothing for anything else.
std::optional<aggregation_field> parse_aggregation_field(const std::string& name);
// "pid", "tid", "a3", "ret", or "" for none.
std::string aggregation_field_name(const aggregation_field& field);

enum class histogram_kind { none, log2, linear };

// An in-kernel aggregation (docs/jsonrpc.md, probe.add `aggregate`): per key of `by`, the hit
// count and the sum, minimum, maximum and histogram of `of`.
struct aggregation_spec {
    aggregation_field by;
    aggregation_field of;
    histogram_kind histogram = histogram_kind::none;
    int64_t linear_min = 0; // histogram linear: buckets of `linear_step` from min to max
    int64_t linear_max = 0;
    uint64_t linear_step = 0;
    // The daemon's, not the kernel's: a probe.aggregate notification with the table every this
    // many milliseconds (0: none).
    uint32_t every_ms = 0;
};

// An aggregation's table as the kernel holds it: the channel's record (channel/channel_types.hpp,
// which says what the buckets are), not a copy of it.
using aggregation_row = channel::aggregation_row;
using aggregation_table = channel::aggregation_table;

// A probe as the kernel keys it: a program and an offset (ELF virtual address) in it.
struct probe_spec {
    std::string program; // "/bin/fib"
    uint64_t offset = 0;
    probe_kind kind = probe_kind::insn;
    probe_mode mode = probe_mode::trace;
    std::optional<pid_type> pid; // only this process; nothing: every process of the program
    // A condition list evaluated in the kernel at each hit (protocol/README.md, probe_add: GDB
    // agent expressions, each u16 length + bytecode); empty: none, every hit counts.
    std::vector<uint8_t> condition;
    // What each hit record carries besides the usual fields (protocol/README.md, probe_add's
    // fetch list); empty: nothing more.
    std::vector<wire::fetch_entry> fetch = {};
    // With mode aggregate: what the kernel aggregates.
    std::optional<aggregation_spec> aggregation = std::nullopt;
};

// The condition list of probe_spec for these agent expressions: each as u16 little-endian
// length + bytecode. Empty for none.
std::vector<uint8_t> encode_condition_list(const std::vector<std::vector<uint8_t>>& exprs);

// A gdb tracepoint as the kernel keeps it (protocol/README.md, tracepoint_add).
struct tracepoint_spec {
    std::string program;
    uint64_t offset = 0;
    std::optional<pid_type> pid;
    uint32_t number = 0;            // gdb's
    uint64_t passcount = 0;         // 0: none
    uint64_t registers = 0;         // bit i: x_i, bit 32: pc
    std::vector<uint8_t> condition; // condition list (as probe_spec's)
    std::vector<uint8_t> actions;   // expression list, same framing
};

// The kernel's trace run and one frame of its buffer: the channel's records
// (channel/channel_types.hpp), not copies of them.
using trace_stop_reason = ruprobes::wire::trace_stop_reason;
using trace_status = channel::trace_status_info;
using trace_frame = channel::trace_frame_info;

struct probe_info {
    probe_id id = 0;
    probe_spec spec;
    uint64_t hits = 0; // counted by the model from probe-hit events (trace) or stops (stop)
};

// ---- events ---------------------------------------------------------------------------------

enum class stop_reason {
    breakpoint, // a stop-mode probe (swbreak)
    step,       // a single step completed
    interrupt,  // the host asked it to stop (gdb's ^C, vAttach)
    signal,     // a fault or an ebreak the program compiled in; see `signal`
    spawned,    // a process created stopped, at its entry
};
const char* stop_reason_name(stop_reason reason);

struct stop_event {
    thread_id thread;
    stop_reason reason = stop_reason::interrupt;
    int signal = gdb_signal::sigtrap; // gdb numbering
    registers regs;
    std::optional<probe_id> probe; // the probe that stopped it (breakpoint)
    // The F/D registers, once read while the thread stays stopped (the kernel's stop event does
    // not carry them: few stops need them).
    std::optional<fp_registers> fp;
};

struct exec_event {
    pid_type pid = 0;
    std::string program;
};

struct exit_event {
    pid_type pid = 0;
    bool signaled = false; // true: killed by `status` (a Linux signal number); false: exit code
    int status = 0;
};

// One item a probe fetched at a hit: a register's value, or the address a mem/str item read and
// the bytes it got (none when unreadable; a string without its NUL).
struct fetched_item {
    wire::fetch_op op = wire::fetch_op::reg;
    wire::fetch_status status = wire::fetch_status::ok;
    uint64_t value = 0; // reg: the value; mem/str: the address
    std::vector<uint8_t> bytes;
};

struct probe_hit_event {
    probe_id probe = 0;
    thread_id thread;
    uint64_t pc = 0;
    uint64_t timestamp_ns = 0; // guest clock
    uint64_t seq = 0;          // per-target sequence number: gaps are lost events
    std::optional<registers> regs;
    std::optional<uint64_t> return_value; // return probes: a0 at the return
    // A probe with a fetch list: the items fetched at the hit, in the list's order
    // (ruprobes/wire/fetch.hpp); `fetch_complete` is false when the kernel's data was cut short
    // or malformed (the items read before that are kept).
    std::vector<fetched_item> fetched;
    bool fetch_complete = true;
};

// The kernel dropped `count` records (ring full) or the daemon dropped them (slow consumer), or
// (`transport`) they went missing between the kernel and the daemon and were given up on (a
// seq gap that the kernel's resends did not fill).
struct events_lost_event {
    uint64_t count = 0;
    bool transport = false;
};

struct connected_event {
    target_status status;
};

struct disconnected_event {
    std::string reason;
};

using target_event = std::variant<stop_event, exec_event, exit_event, probe_hit_event,
                                  events_lost_event, connected_event, disconnected_event>;

} // namespace ruprobes::target
