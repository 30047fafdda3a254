// The agent library built for the host, behind a fake kernel: every os_agent_* hook is defined
// here over a small process table, and the transport is the byte channel (two byte queues). The
// tests speak the wire protocol to it as ruprobesd would and check what comes back: the library
// works with no kernel header, through its C ABI (ruprobes/agent.h) alone.
#include "agent/agent_internal.hpp"
#include "host_port/host_machine.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/wire/codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace wire = ruprobes::wire;

namespace {

// ---- the fake kernel ---------------------------------------------------------------------------

struct fake_process {
    uint32_t pid = 0;
    std::string path;
    bool stopped = false;
    ruprobes_agent_regs regs{};
};

struct fake_kernel {
    std::deque<uint8_t> to_agent;    // what the host sent, not read yet
    std::vector<uint8_t> from_agent; // every byte the agent wrote
    bool channel_full = false;       // os_agent_channel_write refuses while set
    std::vector<fake_process> processes;
    int lock_depth = 0;
    int max_lock_depth = 0;
    int sessions_started = 0;
    int work_notices = 0;
    uint32_t hart = 0; // os_agent_hart_id
    std::vector<std::string> log;
    uint64_t now_ns = 1'000'000;

    fake_process* find(uint32_t pid) {
        for (fake_process& p : processes) {
            if (p.pid == pid) {
                return &p;
            }
        }
        return nullptr;
    }
};

fake_kernel* kernel = nullptr;

// The agent calls no hook while it holds its own lock (ruprobes/agent.h, os_agent_lock).
void outside_lock(const char* hook) {
    EXPECT_EQ(kernel->lock_depth, 0) << hook << " called with the agent's lock held";
}

} // namespace

extern "C" {

void os_agent_lock(void) {
    kernel->lock_depth++;
    kernel->max_lock_depth = std::max(kernel->max_lock_depth, kernel->lock_depth);
}
void os_agent_unlock(void) {
    kernel->lock_depth--;
}
uint32_t os_agent_hart_id(void) {
    return kernel->hart;
}
void os_agent_notify(int notice) {
    outside_lock("os_agent_notify");
    kernel->work_notices += notice == RUPROBES_AGENT_NOTICE_WORK ? 1 : 0;
}
void os_agent_wait(uint64_t timeout_ns) {
    outside_lock("os_agent_wait");
    kernel->now_ns += timeout_ns == 0 ? 1000 : timeout_ns;
}
uint64_t os_agent_time_ns(void) {
    outside_lock("os_agent_time_ns");
    return kernel->now_ns;
}
uint64_t os_agent_wall_clock_ns(void) {
    outside_lock("os_agent_wall_clock_ns");
    return kernel->now_ns;
}
void os_agent_log(const char* line) {
    outside_lock("os_agent_log");
    kernel->log.emplace_back(line);
}
size_t os_agent_channel_read(uint8_t* dst, size_t max) {
    outside_lock("os_agent_channel_read");
    size_t n = 0;
    while (n < max && !kernel->to_agent.empty()) {
        dst[n++] = kernel->to_agent.front();
        kernel->to_agent.pop_front();
    }
    return n;
}
int os_agent_channel_write(const uint8_t* src, size_t len) {
    outside_lock("os_agent_channel_write");
    if (kernel->channel_full) {
        return 0;
    }
    kernel->from_agent.insert(kernel->from_agent.end(), src, src + len);
    return 1;
}
int os_agent_process_list(uint32_t start, ruprobes_agent_process* out, uint32_t max,
                          uint32_t* total) {
    outside_lock("os_agent_process_list");
    outside_lock("os_agent_process_list");
    *total = static_cast<uint32_t>(kernel->processes.size());
    uint32_t n = 0;
    for (uint32_t i = start; i < kernel->processes.size() && n < max; i++) {
        const fake_process& p = kernel->processes[i];
        out[n] = ruprobes_agent_process{};
        out[n].pid = p.pid;
        out[n].ppid = 1;
        out[n].state = p.stopped ? RUPROBES_AGENT_PROCESS_STOPPED : RUPROBES_AGENT_PROCESS_RUNNING;
        out[n].thread_count = 1;
        std::snprintf(out[n].path, sizeof out[n].path, "%s", p.path.c_str());
        n++;
    }
    return static_cast<int>(n);
}
int os_agent_process_spawn(int argc, const char* const* argv, uint32_t flags, uint32_t* pid) {
    outside_lock("os_agent_process_spawn");
    if (argc < 1 || std::strcmp(argv[0], "/bin/fib") != 0) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROGRAM;
    }
    fake_process p;
    p.pid = 40 + static_cast<uint32_t>(kernel->processes.size());
    p.path = argv[0];
    p.stopped = (flags & RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY) != 0;
    p.regs.gp.pc = 0x10000;
    kernel->processes.push_back(p);
    *pid = p.pid;
    return 0;
}
int os_agent_process_kill(uint32_t pid, int) {
    outside_lock("os_agent_process_kill");
    return kernel->find(pid) != nullptr ? 0 : -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
}
int os_agent_thread_list(uint32_t pid, uint32_t start, ruprobes_agent_thread* out, uint32_t max,
                         uint32_t* total) {
    outside_lock("os_agent_thread_list");
    outside_lock("os_agent_thread_list");
    fake_process* p = kernel->find(pid);
    if (p == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    *total = 1;
    if (start > 0 || max == 0) {
        return 0;
    }
    out[0] =
        ruprobes_agent_thread{.tid = pid, .stopped = p->stopped ? 1u : 0u, .pc = p->regs.gp.pc};
    return 1;
}
int os_agent_thread_stop(uint32_t pid, uint32_t tid) {
    outside_lock("os_agent_thread_stop");
    fake_process* p = kernel->find(pid);
    if (p == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (tid != pid) {
        return -RUPROBES_AGENT_E_NO_SUCH_THREAD;
    }
    if (p->stopped) {
        return 1;
    }
    p->stopped = true;
    return 0;
}
int os_agent_thread_resume(uint32_t pid, uint32_t tid, int step) {
    outside_lock("os_agent_thread_resume");
    fake_process* p = kernel->find(pid);
    if (p == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (tid != pid) {
        return -RUPROBES_AGENT_E_NO_SUCH_THREAD;
    }
    if (step && !p->stopped) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    p->stopped = step != 0;
    return 0;
}
uint32_t os_agent_release_all(void) {
    outside_lock("os_agent_release_all");
    uint32_t n = 0;
    for (fake_process& p : kernel->processes) {
        n += p.stopped ? 1 : 0;
        p.stopped = false;
    }
    return n;
}
void os_agent_session_started(void) {
    outside_lock("os_agent_session_started");
    kernel->sessions_started++;
}
int os_agent_regs_get(uint32_t pid, uint32_t tid, ruprobes_agent_regs* out) {
    outside_lock("os_agent_regs_get");
    fake_process* p = kernel->find(pid);
    if (p == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (tid != pid) {
        return -RUPROBES_AGENT_E_NO_SUCH_THREAD;
    }
    if (!p->stopped) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    *out = p->regs;
    return 0;
}
int os_agent_regs_set(uint32_t pid, uint32_t tid, const ruprobes_agent_regs* in, uint32_t which) {
    outside_lock("os_agent_regs_set");
    ruprobes_agent_regs current{};
    int r = os_agent_regs_get(pid, tid, &current);
    if (r < 0) {
        return r;
    }
    fake_process* p = kernel->find(pid);
    if (which & RUPROBES_AGENT_REGS_GP) {
        p->regs.gp = in->gp;
    }
    if (which & RUPROBES_AGENT_REGS_FP) {
        std::memcpy(p->regs.f, in->f, sizeof p->regs.f);
        p->regs.fcsr = in->fcsr;
    }
    return 0;
}
int os_agent_mem_read(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    outside_lock("os_agent_mem_read");
    if (kernel->find(pid) == nullptr) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (addr >= 0x80000000) {
        return -RUPROBES_AGENT_E_PERMISSION_DENIED;
    }
    for (size_t i = 0; i < len; i++) {
        static_cast<uint8_t*>(dst)[i] = static_cast<uint8_t>(addr + i);
    }
    return 0;
}
int os_agent_mem_write(uint32_t pid, uint64_t, const void*, size_t) {
    outside_lock("os_agent_mem_write");
    return kernel->find(pid) != nullptr ? 0 : -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
}

} // extern "C"

namespace {

// ---- the host side -----------------------------------------------------------------------------

class agent_library : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        static fake_kernel k;
        kernel = &k;
        k.processes.push_back(fake_process{.pid = 7, .path = "/bin/fib", .stopped = true});
        k.processes[0].regs.gp.x[5] = 0x1234;
        k.processes[0].regs.gp.pc = 0x10080;
        k.processes[0].regs.f[3] = 0x4008000000000000ull;
        static ruprobes::test::host_machine machine;
        static ruprobes::test::engine_memory memory;
        ruprobes_agent_config bad{};
        bad.transport = 99;
        ASSERT_EQ(ruprobes_agent_init(&bad), -1);
        ruprobes_agent_config config{};
        config.transport = RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL;
        config.boot_id = 0xb007;
        ASSERT_EQ(ruprobes_agent_init(&config), 0);
        ruprobes_agent_poll(); // the first round announces the kernel
        while (auto f = next_frame()) {
            if (auto r = wire::decode<wire::kernel_ready_event>(*f); r.ok()) {
                ready_boot_id_ = r->boot_id;
            }
        }
    }

    // Sends `m` as a request and runs agent rounds until a frame of type R comes back.
    template <typename R, typename M>
    std::optional<wire::frame> ask(const M& m) {
        std::vector<uint8_t> buf(wire::max_frame);
        size_t n = wire::encode(buf, ++request_id_, m);
        kernel->to_agent.insert(kernel->to_agent.end(), buf.begin(), buf.begin() + n);
        return frame_of(R::code);
    }

    // Runs agent rounds until a frame of type `type` was written; nothing after 20 rounds.
    std::optional<wire::frame> frame_of(uint16_t type) {
        for (int round = 0; round < 20; round++) {
            while (auto f = next_frame()) {
                if (f->type == type) {
                    return f;
                }
            }
            ruprobes_agent_poll();
        }
        return std::nullopt;
    }

    static std::optional<wire::frame> next_frame() {
        if (!kernel->from_agent.empty()) {
            size_t taken = decoder_.feed(kernel->from_agent);
            kernel->from_agent.erase(kernel->from_agent.begin(),
                                     kernel->from_agent.begin() + static_cast<long>(taken));
        }
        return decoder_.next();
    }

    template <typename R>
    R decoded(const std::optional<wire::frame>& f) {
        EXPECT_TRUE(f.has_value());
        if (!f) {
            return R{};
        }
        auto r = wire::decode<R>(*f);
        EXPECT_TRUE(r.ok());
        return r.ok() ? *r : R{};
    }

    void hello() {
        auto r = decoded<wire::hello_response>(
            ask<wire::hello_response>(wire::hello_request{.session_id = 0x5e55}));
        ASSERT_EQ(r.status, 0);
    }

    static inline std::vector<uint8_t> storage_ = std::vector<uint8_t>(wire::max_frame);
    static inline wire::frame_decoder decoder_{storage_};
    static inline uint32_t request_id_ = 0;
    static inline uint64_t ready_boot_id_ = 0;
};

TEST_F(agent_library, announces_itself_then_answers_hello_with_the_kernels_stopped_threads) {
    EXPECT_EQ(ready_boot_id_, 0xb007u);
    EXPECT_EQ(kernel->log.front(), "agent: serving the host on the byte channel");
    auto r = decoded<wire::hello_response>(
        ask<wire::hello_response>(wire::hello_request{.session_id = 0x5e55}));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.boot_id, 0xb007u);
    EXPECT_EQ(r.stopped_threads, 1u); // pid 7, counted through the process and thread hooks
    EXPECT_GE(kernel->sessions_started, 1);
    EXPECT_LE(kernel->max_lock_depth, 1) << "the agent's lock is never taken recursively";
}

TEST_F(agent_library, lists_processes_through_the_hook) {
    hello();
    auto f = ask<wire::process_list_response>(wire::process_list_request{});
    auto head = decoded<wire::process_list_response>(f);
    ASSERT_EQ(head.status, 0);
    EXPECT_EQ(head.total, kernel->processes.size());
    size_t used = 0;
    ASSERT_TRUE(wire::decode<wire::process_list_response>(*f, &used).ok());
    wire::entry_reader<wire::process_entry> entries(f->payload.subspan(used), head.count);
    auto first = entries.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->pid, 7u);
    EXPECT_EQ(first->state, uint8_t(wire::process_state::stopped));
    EXPECT_EQ(std::string(first->path.begin(), first->path.end()), "/bin/fib");
}

TEST_F(agent_library, reads_registers_of_a_stopped_thread_and_passes_hook_errors_through) {
    hello();
    auto regs = decoded<wire::regs_get_response>(
        ask<wire::regs_get_response>(wire::regs_get_request{.pid = 7, .tid = 0}));
    EXPECT_EQ(regs.status, 0);
    EXPECT_EQ(regs.x[5], 0x1234u);
    EXPECT_EQ(regs.pc, 0x10080u);
    auto fp = decoded<wire::fp_regs_get_response>(
        ask<wire::fp_regs_get_response>(wire::fp_regs_get_request{.pid = 7, .tid = 7}));
    EXPECT_EQ(fp.f[3], 0x4008000000000000ull);
    auto gone = decoded<wire::regs_get_response>(
        ask<wire::regs_get_response>(wire::regs_get_request{.pid = 99, .tid = 0}));
    EXPECT_EQ(gone.status, wire::status::no_such_process);
    auto kernel_memory = decoded<wire::mem_read_response>(ask<wire::mem_read_response>(
        wire::mem_read_request{.pid = 7, .length = 8, .address = 0x80200000}));
    EXPECT_EQ(kernel_memory.status, wire::status::permission_denied);
    auto user_memory = decoded<wire::mem_read_response>(ask<wire::mem_read_response>(
        wire::mem_read_request{.pid = 7, .length = 4, .address = 0x10000}));
    ASSERT_EQ(user_memory.status, 0);
    ASSERT_EQ(user_memory.data.size(), 4u);
    EXPECT_EQ(user_memory.data[1], 0x01);
}

TEST_F(agent_library, spawns_stopped_and_reports_the_stop_and_later_the_exit) {
    hello();
    const char cmdline[] = "/bin/fib 5";
    auto spawned = decoded<wire::process_spawn_response>(
        ask<wire::process_spawn_response>(wire::process_spawn_request{
            .flags = wire::spawn_flag_stop_at_entry,
            .cmdline =
                wire::bytes(reinterpret_cast<const uint8_t*>(cmdline), sizeof cmdline - 1)}));
    ASSERT_EQ(spawned.status, 0);
    auto stop = decoded<wire::stop_event>(frame_of(wire::stop_event::code));
    EXPECT_EQ(stop.pid, spawned.pid);
    EXPECT_EQ(stop.reason, uint8_t(wire::stop_reason::spawned));
    EXPECT_EQ(stop.pc, 0x10000u);

    const int notices = kernel->work_notices;
    ruprobes_agent_on_exit(spawned.pid, 3, 0);
    EXPECT_GT(kernel->work_notices, notices) << "an event wakes the agent";
    auto exit = decoded<wire::exit_event>(frame_of(wire::exit_event::code));
    EXPECT_EQ(exit.pid, spawned.pid);
    EXPECT_EQ(exit.status, 3);
    EXPECT_EQ(exit.killed, 0);
}

TEST_F(agent_library, unknown_program_is_no_such_program) {
    hello();
    const char cmdline[] = "/bin/none";
    auto r = decoded<wire::process_spawn_response>(
        ask<wire::process_spawn_response>(wire::process_spawn_request{
            .cmdline =
                wire::bytes(reinterpret_cast<const uint8_t*>(cmdline), sizeof cmdline - 1)}));
    EXPECT_EQ(r.status, wire::status::no_such_program);
}

TEST_F(agent_library, a_full_channel_delays_an_event_without_losing_it) {
    hello();
    kernel->channel_full = true;
    ruprobes_agent_on_exec(7, 1, "/bin/fib");
    for (int i = 0; i < 5; i++) {
        ruprobes_agent_poll();
    }
    EXPECT_FALSE(next_frame().has_value());
    kernel->channel_full = false;
    auto exec = decoded<wire::exec_event>(frame_of(wire::exec_event::code));
    EXPECT_EQ(exec.pid, 7u);
    EXPECT_EQ(std::string(exec.path.begin(), exec.path.end()), "/bin/fib");
    ruprobes_agent_stats stats{};
    ruprobes_agent_get_stats(&stats);
    EXPECT_EQ(stats.host_connected, 1u);
    EXPECT_EQ(stats.events_dropped, 0u);
}

// Hits of several harts that interleave are runs of a record each in the harts' rings: they go
// together in one hits frame, not a frame each (every frame costs the host's socket a write).
TEST_F(agent_library, interleaved_hits_of_several_harts_go_in_one_frame) {
    hello();
    const uint64_t first = agent::hits.next_seq();
    for (uint32_t i = 0; i < 12; i++) {
        uprobes_hit hit{};
        hit.probe_id = 5;
        hit.pid = 7;
        hit.tid = 7;
        hit.a[0] = i;
        ASSERT_TRUE(agent::hits.push(i % 4, hit));
    }
    std::vector<uint64_t> seqs;
    int frames = 0;
    for (int round = 0; round < 20 && seqs.size() < 12; round++) {
        ruprobes_agent_poll();
        while (auto f = next_frame()) {
            size_t used = 0;
            auto head = wire::decode<wire::hits_event>(*f, &used);
            if (f->type != wire::hits_event::code || !head.ok()) {
                continue;
            }
            frames++;
            wire::entry_reader<wire::hit_record> records(f->payload.subspan(used), head->count,
                                                         head->record_size);
            while (auto r = records.next()) {
                seqs.push_back(r->seq);
                EXPECT_EQ(r->a[0], r->seq - first);
            }
        }
    }
    ASSERT_EQ(seqs.size(), 12u);
    for (size_t i = 0; i < seqs.size(); i++) {
        EXPECT_EQ(seqs[i], first + i);
    }
    EXPECT_EQ(frames, 1);
    std::vector<uint8_t> buf(wire::max_frame);
    size_t n = wire::encode(buf, 0, wire::hits_ack_notice{.next_seq = first + 12});
    kernel->to_agent.insert(kernel->to_agent.end(), buf.begin(), buf.begin() + n);
    ruprobes_agent_poll();
    EXPECT_FALSE(agent::hits.unacknowledged());
}

} // namespace
