// Every message of the wire protocol (protocol/README.md §3) as a plain struct whose io() lists
// its fields in wire order; codec.hpp turns them into frames and back. Variable fields are spans
// into the caller's buffer (encoding) or into the received payload (decoding).
//
// Responses start with `status`; their other fields exist on the wire only when status == 0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ruprobes/error.hpp"
#include "ruprobes/wire/message_types.hpp"

namespace ruprobes::wire {

// ---- session -------------------------------------------------------------------------------

struct hello_request {
    static constexpr uint16_t code = type_code(msg_type::hello);
    uint16_t min_version = 1;
    uint16_t max_version = 1;
    uint32_t capabilities = 0;
    uint64_t session_id = 0;
    uint32_t flags = 0;
    uint32_t lease_ms = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.min_version), s.field(m.max_version), s.field(m.capabilities);
        s.field(m.session_id), s.field(m.flags), s.field(m.lease_ms);
    }
};

struct hello_response {
    static constexpr uint16_t code = response_code(msg_type::hello);
    int32_t status = 0;
    uint16_t version = 1;
    uint32_t capabilities = 0;
    uint64_t boot_id = 0;
    uint64_t time_ns = 0;
    uint64_t next_hit_seq = 0;
    uint64_t hits_dropped = 0;
    uint32_t hit_window = 0;
    uint32_t max_frame = 0;
    uint32_t stopped_threads = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.version), s.zeros(2), s.field(m.capabilities), s.field(m.boot_id);
        s.field(m.time_ns), s.field(m.next_hit_seq), s.field(m.hits_dropped);
        s.field(m.hit_window), s.field(m.max_frame), s.field(m.stopped_threads), s.zeros(4);
    }
};

struct ping_request {
    static constexpr uint16_t code = type_code(msg_type::ping);
    uint64_t cookie = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.cookie);
    }
};

struct ping_response {
    static constexpr uint16_t code = response_code(msg_type::ping);
    int32_t status = 0;
    uint64_t cookie = 0;
    uint64_t time_ns = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.cookie), s.field(m.time_ns);
    }
};

struct hits_ack_notice {
    static constexpr uint16_t code = type_code(msg_type::hits_ack);
    uint64_t next_seq = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.next_seq);
    }
};

// A response that is only a status (probe_remove, process_kill, thread_*, regs_set, mem_write,
// and every error response).
template <msg_type T>
struct status_response {
    static constexpr uint16_t code = response_code(T);
    int32_t status = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
    }
};

// ---- probes --------------------------------------------------------------------------------

struct probe_add_request {
    static constexpr uint16_t code = type_code(msg_type::probe_add);
    uint32_t pid = 0;
    uint8_t kind = 0; // probe_kind
    uint8_t mode = 0; // probe_mode
    uint64_t address = 0;
    bytes path;
    bytes condition;
    bytes fetch; // entries of fetch.hpp; empty: the hit records carry what they always do
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.kind), s.field(m.mode), s.len16(m.path), s.field(m.address);
        s.len16(m.condition), s.len16(m.fetch), s.data(m.path), s.data(m.condition);
        s.data(m.fetch);
    }
};

// The answer to a request that registers a probe: probe_add, aggregation_add.
template <msg_type T>
struct probe_id_response {
    static constexpr uint16_t code = response_code(T);
    int32_t status = 0;
    uint32_t probe_id = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.probe_id);
    }
};
using probe_add_response = probe_id_response<msg_type::probe_add>;

struct probe_remove_request {
    static constexpr uint16_t code = type_code(msg_type::probe_remove);
    uint32_t probe_id = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.probe_id);
    }
};
using probe_remove_response = status_response<msg_type::probe_remove>;

// Requests for one page of a list: probe_list, process_list.
template <msg_type T>
struct list_request {
    static constexpr uint16_t code = type_code(T);
    uint32_t start = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.start);
    }
};
using probe_list_request = list_request<msg_type::probe_list>;
using process_list_request = list_request<msg_type::process_list>;

// The head of a list response; `count` entries follow (decode them with decode_entries()).
template <msg_type T>
struct list_response {
    static constexpr uint16_t code = response_code(T);
    int32_t status = 0;
    uint32_t total = 0;
    uint32_t count = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.total), s.field(m.count);
    }
};
using probe_list_response = list_response<msg_type::probe_list>;
using process_list_response = list_response<msg_type::process_list>;
using thread_list_response = list_response<msg_type::thread_list>;

struct probe_entry {
    uint32_t probe_id = 0;
    uint32_t pid = 0;
    uint8_t kind = 0;
    uint8_t mode = 0;
    uint64_t address = 0;
    uint64_t hits = 0;
    bytes path;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.probe_id), s.field(m.pid), s.field(m.kind), s.field(m.mode), s.len16(m.path);
        s.field(m.address), s.field(m.hits), s.data(m.path);
    }
};

// ---- processes and threads -----------------------------------------------------------------

struct process_entry {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint8_t state = 0; // process_state
    uint16_t thread_count = 0;
    bytes path;
    bytes args;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.ppid), s.field(m.state), s.zeros(1), s.field(m.thread_count);
        s.len16(m.path), s.len16(m.args), s.data(m.path), s.data(m.args);
    }
};

struct process_spawn_request {
    static constexpr uint16_t code = type_code(msg_type::process_spawn);
    uint32_t flags = 0;
    bytes cmdline;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.flags), s.len16(m.cmdline), s.zeros(2), s.data(m.cmdline);
    }
};

struct process_spawn_response {
    static constexpr uint16_t code = response_code(msg_type::process_spawn);
    int32_t status = 0;
    uint32_t pid = 0;
    uint32_t tid = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.pid), s.field(m.tid);
    }
};

struct process_kill_request {
    static constexpr uint16_t code = type_code(msg_type::process_kill);
    uint32_t pid = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid);
    }
};
using process_kill_response = status_response<msg_type::process_kill>;

struct thread_list_request {
    static constexpr uint16_t code = type_code(msg_type::thread_list);
    uint32_t pid = 0;
    uint32_t start = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.start);
    }
};

struct thread_entry {
    uint32_t tid = 0;
    uint8_t state = 0;       // thread_state
    uint8_t stop_reason = 0; // stop_reason
    uint64_t pc = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.tid), s.field(m.state), s.field(m.stop_reason), s.zeros(2), s.field(m.pc);
    }
};

// thread_stop, thread_resume, thread_step, regs_get, fp_regs_get: (pid, tid).
template <msg_type T>
struct thread_request {
    static constexpr uint16_t code = type_code(T);
    uint32_t pid = 0;
    uint32_t tid = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.tid);
    }
};
using thread_stop_request = thread_request<msg_type::thread_stop>;
// thread_resume: (pid, tid) and the signal to deliver (Linux numbering; 0: none). A thread that
// stopped on a fault is killed by a non-zero signal; 0 resumes it where it stopped.
struct thread_resume_request {
    static constexpr uint16_t code = type_code(msg_type::thread_resume);
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t signal = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.tid), s.field(m.signal);
    }
};
using thread_step_request = thread_request<msg_type::thread_step>;
using regs_get_request = thread_request<msg_type::regs_get>;
using fp_regs_get_request = thread_request<msg_type::fp_regs_get>;
using thread_stop_response = status_response<msg_type::thread_stop>;
using thread_resume_response = status_response<msg_type::thread_resume>;
using thread_step_response = status_response<msg_type::thread_step>;

// ---- registers and memory ------------------------------------------------------------------

struct regs_get_response {
    static constexpr uint16_t code = response_code(msg_type::regs_get);
    int32_t status = 0;
    register_file x{};
    uint64_t pc = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.x), s.field(m.pc);
    }
};

struct regs_set_request {
    static constexpr uint16_t code = type_code(msg_type::regs_set);
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t mask = 0; // bit i: x_i, bit 32: pc
    register_file x{};
    uint64_t pc = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.tid), s.field(m.mask), s.field(m.x), s.field(m.pc);
    }
};
using regs_set_response = status_response<msg_type::regs_set>;

// The F/D registers and fcsr of a stopped thread (protocol/README.md §3).
struct fp_regs_get_response {
    static constexpr uint16_t code = response_code(msg_type::fp_regs_get);
    int32_t status = 0;
    fp_register_file f{};
    uint64_t fcsr = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.f), s.field(m.fcsr);
    }
};

struct fp_regs_set_request {
    static constexpr uint16_t code = type_code(msg_type::fp_regs_set);
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t mask = 0; // bit i: f_i, bit 32: fcsr
    fp_register_file f{};
    uint64_t fcsr = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.tid), s.field(m.mask), s.field(m.f), s.field(m.fcsr);
    }
};
using fp_regs_set_response = status_response<msg_type::fp_regs_set>;

struct mem_read_request {
    static constexpr uint16_t code = type_code(msg_type::mem_read);
    uint32_t pid = 0;
    uint32_t length = 0;
    uint64_t address = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.length), s.field(m.address);
    }
};

struct mem_read_response {
    static constexpr uint16_t code = response_code(msg_type::mem_read);
    int32_t status = 0;
    bytes data;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.len32(m.data), s.data(m.data);
    }
};

struct mem_write_request {
    static constexpr uint16_t code = type_code(msg_type::mem_write);
    uint32_t pid = 0;
    uint64_t address = 0;
    bytes data;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.len32(m.data), s.field(m.address), s.data(m.data);
    }
};
using mem_write_response = status_response<msg_type::mem_write>;

// ---- events --------------------------------------------------------------------------------

struct kernel_ready_event {
    static constexpr uint16_t code = type_code(msg_type::kernel_ready);
    uint16_t version = 1;
    uint32_t capabilities = 0;
    uint64_t boot_id = 0;
    uint64_t time_ns = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.version), s.zeros(2), s.field(m.capabilities), s.field(m.boot_id);
        s.field(m.time_ns);
    }
};

// The head of a hits frame; `count` records of `record_size` bytes follow.
struct hits_event {
    static constexpr uint16_t code = type_code(msg_type::hits);
    uint64_t first_seq = 0;
    uint16_t count = 0;
    uint16_t record_size = hit_record_size;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.first_seq), s.field(m.count), s.field(m.record_size), s.zeros(4);
    }
};

// One hit record (README §3, 128 bytes).
struct hit_record {
    uint64_t seq = 0;
    uint64_t time_ns = 0;
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t pc = 0;
    uint32_t probe_id = 0;
    uint8_t kind = 0;           // probe_kind
    uint8_t flags = 0;          // bit 0: ret valid; bit 1: fetched data follows
    uint16_t fetch_records = 0; // with hit_flag_fetch: continuation records behind (fetch.hpp)
    std::array<uint64_t, 8> a{};
    uint64_t sp = 0;
    uint64_t ra = 0;
    uint64_t ret = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.seq), s.field(m.time_ns), s.field(m.pid), s.field(m.tid), s.field(m.pc);
        s.field(m.probe_id), s.field(m.kind), s.field(m.flags), s.field(m.fetch_records);
        s.field(m.a);
        s.field(m.sp), s.field(m.ra), s.field(m.ret);
    }
};
inline constexpr uint8_t hit_flag_ret_valid = 1u << 0;
inline constexpr uint8_t hit_flag_fetch = 1u << 1;

struct drops_event {
    static constexpr uint16_t code = type_code(msg_type::drops);
    uint64_t hits_dropped = 0;
    uint64_t next_seq = 0;
    uint64_t events_dropped = 0;
    uint64_t frames_rejected = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.hits_dropped), s.field(m.next_seq), s.field(m.events_dropped);
        s.field(m.frames_rejected);
    }
};

struct stop_event {
    static constexpr uint16_t code = type_code(msg_type::stop);
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint8_t reason = 0; // stop_reason
    uint8_t signal = 0; // Linux numbering: the fault's (reason fault), SIGTRAP (trap), else 0
    uint32_t probe_id = 0;
    register_file x{};
    uint64_t pc = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.tid), s.field(m.reason), s.field(m.signal), s.zeros(2);
        s.field(m.probe_id);
        s.field(m.x), s.field(m.pc);
    }
};

struct exec_event {
    static constexpr uint16_t code = type_code(msg_type::exec);
    uint32_t pid = 0;
    uint32_t ppid = 0;
    bytes path;
    bytes args;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.ppid), s.len16(m.path), s.len16(m.args), s.data(m.path);
        s.data(m.args);
    }
};

struct exit_event {
    static constexpr uint16_t code = type_code(msg_type::exit);
    uint32_t pid = 0;
    int32_t status = 0;
    uint8_t killed = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.pid), s.field(m.status), s.field(m.killed), s.zeros(3);
    }
};

// ---- diagnostics -----------------------------------------------------------------------------

// Asks the kernel to send `total_bytes` of filler events (payloads of `payload_size` bytes) as
// fast as it can, then answer: the raw guest-to-host throughput of the channel (benchmarks).
struct channel_test_request {
    static constexpr uint16_t code = type_code(msg_type::channel_test);
    uint32_t total_bytes = 0;
    uint32_t payload_size = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.total_bytes), s.field(m.payload_size);
    }
};

struct channel_test_response {
    static constexpr uint16_t code = response_code(msg_type::channel_test);
    int32_t status = 0;
    uint64_t frames = 0;     // filler frames queued
    uint64_t bytes = 0;      // their size on the wire, headers and CRCs included
    uint64_t elapsed_ns = 0; // kernel time from the first to the last frame queued
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.status);
        if (m.status != 0) {
            return;
        }
        s.field(m.frames), s.field(m.bytes), s.field(m.elapsed_ns);
    }
};

// One filler frame of a channel test: `seq` (from 1), then filler bytes up to the payload size.
struct filler_event {
    static constexpr uint16_t code = type_code(msg_type::filler);
    uint64_t seq = 0;
    template <typename M, typename Io>
    static void io(M& m, Io& s) {
        s.field(m.seq);
    }
};

} // namespace ruprobes::wire

// What the kernel collects at the hit for the host to read later (aggregations, tracepoints).
#include "ruprobes/wire/collection_messages.hpp"
