// The os_agent_* hooks of the agent library for the simulated kernel, written against the public
// header ruprobes/agent.h only. Everything runs on the kernel's one host thread: the agent is
// polled from the main loop between quanta (agent context), the ruprobes_agent_on_* calls come
// from the kernel's process events (event context), and nothing needs a lock.
#include "agent_port.hpp"

#include "ruprobes/agent.h"

#include <cstring>
#include <ctime>
#include <stdexcept>

namespace sim {

namespace {

kernel* the_kernel = nullptr;
socket_channel* the_channel = nullptr;
bool work_pending = false;
uint64_t next_round_ns = 0;
uint32_t harts = 1;     // what the agent was told (agent_port)
uint32_t next_hart = 0; // the hart the next trap is taken on

constexpr uint64_t user_begin = 0x4000'0000; // the user window: the only memory the host may touch
constexpr uint64_t user_end = 0x8000'0000;

uint64_t wall_clock_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// The live process `pid` whose thread `tid` (0: its first) exists, or nullptr with *error set.
process* thread_of(uint32_t pid, uint32_t tid, int* error) {
    process* p = the_kernel != nullptr ? the_kernel->find(pid) : nullptr;
    if (p == nullptr || !p->live()) {
        *error = -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
        return nullptr;
    }
    if (tid != 0 && tid != pid) {
        *error = -RUPROBES_AGENT_E_NO_SUCH_THREAD;
        return nullptr;
    }
    return p;
}

int agent_stop_reason(stop_reason reason) {
    switch (reason) {
    case stop_reason::requested:
        return RUPROBES_AGENT_STOP_REQUESTED;
    case stop_reason::probe:
        return RUPROBES_AGENT_STOP_PROBE;
    case stop_reason::step:
        return RUPROBES_AGENT_STOP_STEP;
    case stop_reason::breakpoint:
        return RUPROBES_AGENT_STOP_BREAKPOINT;
    case stop_reason::fault:
        return RUPROBES_AGENT_STOP_FAULT;
    }
    return RUPROBES_AGENT_STOP_REQUESTED;
}

int user_range(uint64_t addr, size_t len) {
    return addr >= user_begin && addr <= user_end && len <= user_end - addr
               ? 0
               : -RUPROBES_AGENT_E_PERMISSION_DENIED;
}

} // namespace

agent_port::agent_port(kernel& k, socket_channel& channel, uint32_t harts) {
    if (the_kernel != nullptr) {
        throw std::runtime_error("one agent per kernel");
    }
    the_kernel = &k;
    the_channel = &channel;
    ruprobes_agent_config config = {};
    config.transport = RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL;
    config.harts = harts; // 1: one host thread runs the whole kernel
    sim::harts = harts;
    if (ruprobes_agent_init(&config) != 0) {
        the_kernel = nullptr;
        the_channel = nullptr;
        throw std::runtime_error("ruprobes_agent_init failed");
    }
    listener_.stopped = [](uint32_t pid, stop_reason reason, uint32_t probe_id) {
        const process* p = the_kernel->find(pid);
        ruprobes_agent_on_stop(pid, pid, agent_stop_reason(reason), probe_id,
                               p != nullptr ? p->stop_signal : 0);
    };
    listener_.exec = [](uint32_t pid, uint32_t ppid, const std::string& path) {
        ruprobes_agent_on_exec(pid, ppid, path.c_str());
    };
    listener_.forked = [](uint32_t parent, uint32_t child) {
        ruprobes_agent_on_fork(parent, child);
    };
    listener_.exited = [](uint32_t pid, int wait_status) {
        const bool killed = (wait_status & 0x7f) != 0;
        ruprobes_agent_on_exit(pid, killed ? wait_status & 0x7f : (wait_status >> 8) & 0xff,
                               killed ? 1 : 0);
    };
    k.set_listener(&listener_);
    work_pending = true;
}

agent_port::~agent_port() {
    if (the_kernel != nullptr) {
        the_kernel->set_listener(nullptr);
    }
    uprobes_set_hit_sink(nullptr, nullptr);
    the_kernel = nullptr;
    the_channel = nullptr;
}

void agent_port::poll_if_due() {
    const uint64_t now = monotonic_ns();
    if (!work_pending && now < next_round_ns) {
        return;
    }
    work_pending = false;
    next_round_ns = now + ruprobes_agent_poll();
    the_channel->flush();
}

void agent_port::hold_while_congested() {
    constexpr uint64_t max_hold_ns = 1'000'000'000;
    const uint64_t begin = monotonic_ns();
    while (ruprobes_agent_congested() != 0 && monotonic_ns() - begin < max_hold_ns) {
        the_channel->wait(1);
        work_pending = true; // acknowledgements may have come in: a round reads them
        poll_if_due();
    }
}

int agent_port::due_in_ms(int cap) const {
    if (work_pending) {
        return 0;
    }
    const uint64_t now = monotonic_ns();
    if (next_round_ns <= now) {
        return 0;
    }
    const uint64_t ms = (next_round_ns - now + 999'999) / 1'000'000;
    return ms < static_cast<uint64_t>(cap) ? static_cast<int>(ms) : cap;
}

} // namespace sim

using sim::the_channel;
using sim::the_kernel;

// ---- synchronisation, clock, log ----------------------------------------------------------------

extern "C" void os_agent_lock(void) {}
extern "C" void os_agent_unlock(void) {}

// One host thread runs the simulated kernel: with config.harts 1 the agent does not call this.
// With more, each trap is taken on the next hart in turn (the agent calls it once per hit).
extern "C" uint32_t os_agent_hart_id(void) {
    const uint32_t hart = sim::next_hart;
    sim::next_hart = (hart + 1) % sim::harts;
    return hart;
}

extern "C" void os_agent_notify(int notice) {
    if (notice == RUPROBES_AGENT_NOTICE_WORK) {
        sim::work_pending = true;
    } else if (notice == RUPROBES_AGENT_NOTICE_HURRY && the_kernel != nullptr) {
        sim::work_pending = true;
        the_kernel->yield(); // the quantum ends after this instruction: the agent ships first
    }
}

// Poll mode: the agent waits only inside a long request (for room to send): let the socket
// drain meanwhile.
extern "C" void os_agent_wait(uint64_t timeout_ns) {
    if (the_channel != nullptr) {
        the_channel->wait(
            static_cast<int>(timeout_ns / 1'000'000 > 10 ? 10 : timeout_ns / 1'000'000));
    }
}

extern "C" uint64_t os_agent_time_ns(void) {
    return sim::monotonic_ns();
}

extern "C" uint64_t os_agent_wall_clock_ns(void) {
    return sim::wall_clock_ns();
}

extern "C" void os_agent_log(const char* line) {
    if (the_kernel != nullptr) {
        the_kernel->log(line);
    }
}

// ---- transport
// --------------------------------------------------------------------------------------

extern "C" size_t os_agent_channel_read(uint8_t* dst, size_t max) {
    return the_channel != nullptr ? the_channel->read(dst, max) : 0;
}

extern "C" int os_agent_channel_write(const uint8_t* src, size_t len) {
    return the_channel != nullptr && the_channel->write(src, len) ? 1 : 0;
}

// ---- process control
// --------------------------------------------------------------------------------

extern "C" int os_agent_process_list(uint32_t start, ruprobes_agent_process* out, uint32_t max,
                                     uint32_t* total) {
    const std::vector<const sim::process*> all = the_kernel->processes();
    *total = static_cast<uint32_t>(all.size());
    uint32_t n = 0;
    for (size_t i = start; i < all.size() && n < max; i++, n++) {
        const sim::process& p = *all[i];
        ruprobes_agent_process& o = out[n];
        o = ruprobes_agent_process{};
        o.pid = p.pid;
        o.ppid = p.ppid;
        o.state = p.stopped() ? RUPROBES_AGENT_PROCESS_STOPPED : RUPROBES_AGENT_PROCESS_RUNNING;
        o.thread_count = 1;
        std::strncpy(o.path, p.path.c_str(), sizeof o.path - 1);
    }
    return static_cast<int>(n);
}

extern "C" int os_agent_process_spawn(int argc, const char* const* argv, uint32_t flags,
                                      uint32_t* pid) {
    if (argc < 1) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROGRAM;
    }
    std::vector<std::string> args(argv, argv + argc);
    const long r =
        the_kernel->spawn(args[0], args, 0, (flags & RUPROBES_AGENT_SPAWN_STOP_AT_ENTRY) != 0);
    if (r < 0) {
        return r == -sim::err::noent || r == -sim::err::noexec ? -RUPROBES_AGENT_E_NO_SUCH_PROGRAM
                                                               : -RUPROBES_AGENT_E_BUSY;
    }
    *pid = static_cast<uint32_t>(r);
    return 0;
}

extern "C" int os_agent_process_kill(uint32_t pid, int signal) {
    return the_kernel->kill(pid, signal) == 0 ? 0 : -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
}

extern "C" int os_agent_thread_list(uint32_t pid, uint32_t start, ruprobes_agent_thread* out,
                                    uint32_t max, uint32_t* total) {
    int error = 0;
    sim::process* p = sim::thread_of(pid, 0, &error);
    if (p == nullptr) {
        return error;
    }
    *total = 1;
    if (start > 0 || max == 0) {
        return 0;
    }
    out[0].tid = p->pid;
    out[0].stopped = p->stopped() ? 1 : 0;
    out[0].pc = p->regs.pc;
    return 1;
}

extern "C" int os_agent_thread_stop(uint32_t pid, uint32_t tid) {
    int error = 0;
    sim::process* p = sim::thread_of(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (p->stopped()) {
        p->traced = true;
        return 1;
    }
    the_kernel->stop(pid);
    return 0;
}

extern "C" int os_agent_thread_resume(uint32_t pid, uint32_t tid, int step) {
    int error = 0;
    sim::process* p = sim::thread_of(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (!p->stopped()) {
        return step != 0 ? -RUPROBES_AGENT_E_NOT_STOPPED : 0;
    }
    the_kernel->resume(pid, step != 0);
    return 0;
}

extern "C" uint32_t os_agent_release_all(void) {
    the_kernel->untrace_all();
    uint32_t resumed = 0;
    for (const sim::process* p : the_kernel->processes()) {
        if (p->stopped() && the_kernel->resume(p->pid, false) == 0) {
            resumed++;
        }
    }
    return resumed;
}

extern "C" void os_agent_session_started(void) {
    the_kernel->set_debugger_present(true);
}

extern "C" int os_agent_regs_get(uint32_t pid, uint32_t tid, ruprobes_agent_regs* out) {
    int error = 0;
    sim::process* p = sim::thread_of(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (!p->stopped()) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    out->gp = p->regs;
    std::memcpy(out->f, p->fp.data(), sizeof out->f);
    out->fcsr = p->fp[32];
    return 0;
}

extern "C" int os_agent_regs_set(uint32_t pid, uint32_t tid, const ruprobes_agent_regs* in,
                                 uint32_t which) {
    int error = 0;
    sim::process* p = sim::thread_of(pid, tid, &error);
    if (p == nullptr) {
        return error;
    }
    if (!p->stopped()) {
        return -RUPROBES_AGENT_E_NOT_STOPPED;
    }
    if ((which & RUPROBES_AGENT_REGS_GP) != 0) {
        for (int i = 1; i < 32; i++) {
            p->regs.x[i] = in->gp.x[i];
        }
        p->regs.pc = in->gp.pc;
    }
    if ((which & RUPROBES_AGENT_REGS_FP) != 0) {
        std::memcpy(p->fp.data(), in->f, sizeof in->f);
        p->fp[32] = in->fcsr & 0xff;
    }
    return 0;
}

extern "C" int os_agent_mem_read(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    sim::process* p = the_kernel->find(pid);
    if (p == nullptr || !p->live()) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (len == 0) {
        return 0;
    }
    if (const int r = sim::user_range(addr, len); r != 0) {
        return r;
    }
    return uprobes_read_memory(pid, addr, dst, len) == 0 ? 0 : -RUPROBES_AGENT_E_BAD_ADDRESS;
}

extern "C" int os_agent_mem_write(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    sim::process* p = the_kernel->find(pid);
    if (p == nullptr || !p->live()) {
        return -RUPROBES_AGENT_E_NO_SUCH_PROCESS;
    }
    if (len == 0) {
        return 0;
    }
    if (const int r = sim::user_range(addr, len); r != 0) {
        return r;
    }
    return uprobes_write_memory(pid, addr, src, len) == 0 ? 0 : -RUPROBES_AGENT_E_BAD_ADDRESS;
}
