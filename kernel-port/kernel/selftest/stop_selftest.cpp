// Stop-mode probes, single steps and thread_stop/thread_resume as the host agent uses them
// (proc/process_control.hpp), driven from the init thread.
#include "arch/riscv64/timer.hpp"
#include "lib/console.hpp"
#include "mm/user_memory.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process_control.hpp"
#include "proc/scheduler.hpp"
#include "selftest/selftest_cases.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/ruprobes.h"

namespace {

struct stop_log {
    int count;
    int pid;
    stop_reason reason;
    uint32_t probe_id;
};
stop_log stops;

void on_stopped(int pid, stop_reason reason, uint32_t probe_id, void*) {
    stops.count++;
    stops.pid = pid;
    stops.reason = reason;
    stops.probe_id = probe_id;
    wakeup(&stops);
}

const process_listener selftest_listener = {on_stopped, nullptr, nullptr, nullptr};

// Waits until a new stop is logged (true) or `pid` has exited (false), at most ~5 s.
bool wait_for_stop(int seen, long pid) {
    for (int i = 0; i < 500; i++) {
        if (stops.count > seen) {
            return true;
        }
        process* p = find_process(static_cast<int>(pid));
        if (p == nullptr || p->state == process_state::zombie) {
            return false;
        }
        sleep_on(&stops, timer_now() + timer_ns_to_ticks(10'000'000));
    }
    return false;
}

} // namespace

bool test_stop_probe_and_step() {
    const char* path = "/bin/fib";
    const uint64_t fib = program_symbol(path, "fib");
    uint16_t first = 0;
    program_read(path, fib, &first, 2);
    const uint64_t first_length = (first & 3) == 3 ? 4 : 2;
    const process_listener* previous = set_process_listener(&selftest_listener);
    stops = {};

    const long pid = start_program("/bin/fib 3 2");
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = fib;
    spec.kind = UPROBES_KIND_ENTRY;
    spec.mode = UPROBES_MODE_STOP;
    const int id = uprobe_register_spec(&spec);

    int probe_stops = 0;
    int step_stops = 0;
    uint64_t first_a0 = 0;
    bool pcs_ok = true;
    bool step_ok = false;
    for (int seen = 0; id > 0 && wait_for_stop(seen, pid); seen = stops.count) {
        trap_frame* regs = thread_registers(static_cast<int>(pid));
        if (regs == nullptr || stops.pid != pid) {
            pcs_ok = false;
            break;
        }
        if (stops.reason == stop_reason::probe) {
            pcs_ok = pcs_ok && regs->sepc == fib && stops.probe_id == static_cast<uint32_t>(id);
            if (probe_stops++ == 0) {
                first_a0 = regs->a(0);
                thread_resume(static_cast<int>(pid), true);
                continue;
            }
        } else if (stops.reason == stop_reason::step) {
            step_stops++;
            step_ok = regs->sepc == fib + first_length;
        }
        thread_resume(static_cast<int>(pid), false);
    }
    uprobe_unregister(id);
    const int code = finish_program(pid);
    set_process_listener(previous);
    kprintf("selftest: stop: %d probe stops, %d step stop at +%lu %s, first a0 %lu, exit %d",
            probe_stops, step_stops, first_length, step_ok ? "ok" : "WRONG", first_a0, code);
    const bool ok = id > 0 && pcs_ok && probe_stops == 5 && step_stops == 1 && step_ok &&
                    first_a0 == 3 && code == 0;
    kprintf(": %s\n", ok ? "PASS" : "FAIL");
    return ok;
}

bool test_stop_running() {
    const long pid = start_program("/bin/spin");
    const int p = static_cast<int>(pid);
    pause_ms(30); // spin is running its endless loop now
    bool ok = thread_stop(p) == 0;
    pause_ms(1); // whatever was runnable ran; spin did not
    trap_frame* regs = thread_registers(p);
    const uint64_t pc = regs != nullptr ? regs->sepc : 0;
    pause_ms(30);
    regs = thread_registers(p);
    const bool held = regs != nullptr && regs->sepc == pc;
    process* proc = find_process(p);
    const bool in_text = proc != nullptr && pc >= proc->text_begin && pc < proc->text_end;
    ok = ok && thread_resume(p, false) == 0 && thread_registers(p) == nullptr;
    pause_ms(30);
    process_kill(p, sig::kill);
    const int code = finish_program(pid);
    kprintf("selftest: stop_running: pc %s, %s while stopped, resumed, killed with %d",
            in_text ? "in text" : "OUTSIDE TEXT", held ? "unchanged" : "MOVED", code);
    ok = ok && in_text && held && code == 128 + sig::kill;
    kprintf(": %s\n", ok ? "PASS" : "FAIL");
    return ok;
}

bool test_step_from_entry() {
    const process_listener* previous = set_process_listener(&selftest_listener);
    stops = {};
    const long pid = start_program("/bin/hello");
    const int p = static_cast<int>(pid);
    bool ok = thread_stop(p) == 0;
    const uint64_t entry = program_symbol("/bin/hello", "_start");
    trap_frame* regs = thread_registers(p);
    const bool held = regs != nullptr && regs->sepc == entry;
    int steps = 0;
    bool stepped_ecall = false;
    uint64_t written = 0;
    while (ok && held && steps < 20000) {
        regs = thread_registers(p);
        process* proc = find_process(p);
        uint32_t insn = 0;
        if (regs == nullptr || proc == nullptr ||
            !peek_user(proc->page_table, &insn, regs->sepc, 4)) {
            ok = false;
            break;
        }
        const uint64_t pc = regs->sepc;
        const int seen = stops.count;
        if (thread_resume(p, true) != 0 || !wait_for_stop(seen, pid) ||
            stops.reason != stop_reason::step) {
            ok = false;
            break;
        }
        steps++;
        regs = thread_registers(p);
        if (insn == 0x00000073) { // the first ecall: write(1, "hello from user space", 21)
            stepped_ecall = regs != nullptr && regs->sepc == pc + 4;
            written = regs != nullptr ? regs->a(0) : 0;
            break;
        }
    }
    ok = ok && thread_resume(p, false) == 0;
    const int code = finish_program(pid);
    set_process_listener(previous);
    kprintf("selftest: step: %s at entry, ecall %s, write returned %lu, exit %d",
            held ? "held" : "NOT HELD", stepped_ecall ? "stepped" : "NOT STEPPED", written, code);
    ok = ok && held && stepped_ecall && written == 21 && code == 0;
    kprintf(": %s\n", ok ? "PASS" : "FAIL");
    kprintf("selftest:   (%d single steps from _start to the first ecall)\n", steps);
    return ok;
}

bool test_live_arm_and_disarm() {
    const char* path = "/bin/ticker";
    const long pid = start_program("/bin/ticker 10 40");
    const int p = static_cast<int>(pid);
    pause_ms(50); // ticking
    uint64_t hits = 0;
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = program_symbol(path, "tick");
    spec.kind = UPROBES_KIND_ENTRY;
    spec.handler = [](uprobes_trap_context*, const uprobes_hit*, void* user) {
        (*static_cast<uint64_t*>(user))++;
    };
    spec.user = &hits;
    const int id = uprobe_register_spec(&spec);
    const uint64_t armed = text_checksum(p);
    pause_ms(200);
    const int removed = id > 0 ? uprobe_unregister(id) : id;
    const uint64_t after = text_checksum(p);
    const uint64_t hits_at_removal = hits;
    const int code = finish_program(pid);
    const uint64_t file = file_text_checksum(path);
    kprintf("selftest: live: armed while running %s, hits %s, disarmed while running %s, %s, "
            "exit %d",
            id > 0 && armed != file ? "yes" : "NO", hits > 0 && hits < 40 ? "some" : "WRONG",
            removed == 0 && after == file ? "yes" : "NO",
            hits == hits_at_removal ? "no hit after" : "HITS AFTER", code);
    const bool ok = id > 0 && armed != file && hits > 0 && hits < 40 && removed == 0 &&
                    after == file && hits == hits_at_removal && code == 0;
    kprintf(": %s\n", ok ? "PASS" : "FAIL");
    kprintf("selftest:   (%lu of 40 ticks hit while armed)\n", hits);
    return ok;
}
