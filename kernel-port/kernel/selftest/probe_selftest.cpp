// The in-kernel probe test table: each test registers trace probes through the engine's C ABI,
// runs an embedded program to its end and compares what the handlers counted with numbers known
// from the program's source. tests/e2e/kernel/selftest_test.cpp asserts every printed line.
#include "selftest/probe_selftest.hpp"

#include "lib/console.hpp"
#include "mm/user_memory.hpp"
#include "proc/process.hpp"
#include "selftest/selftest_cases.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/ruprobes.h"

namespace {

constexpr int max_pids = 4;

// What a handler saw for one probe.
struct counter {
    uint64_t hits;
    uint64_t last_retval;
    uint32_t pids[max_pids];
    uint64_t pid_hits[max_pids];

    uint64_t hits_of(long pid) const {
        for (int i = 0; i < max_pids; i++) {
            if (pids[i] == pid) {
                return pid_hits[i];
            }
        }
        return 0;
    }
    uint64_t hits_not_of(long pid) const { return hits - hits_of(pid); }
};

void count_hit(uprobes_trap_context*, const uprobes_hit* hit, void* user) {
    auto* c = static_cast<counter*>(user);
    c->hits++;
    if ((hit->flags & UPROBES_HIT_RETURN_VALUE) != 0) {
        c->last_retval = hit->retval;
    }
    for (int i = 0; i < max_pids; i++) {
        if (c->pids[i] == hit->pid || c->pids[i] == 0) {
            c->pids[i] = hit->pid;
            c->pid_hits[i]++;
            break;
        }
    }
}

// Registers a trace probe counting into `c`; the probe id, or a negative engine error.
int add_probe(const char* path, uint64_t addr, uint8_t kind, counter* c,
              uint32_t pid = UPROBES_ANY_PID) {
    return add_trace_probe(path, addr, kind, count_hit, c, pid);
}

bool registered(int id, const char* what) {
    if (id <= 0) {
        kprintf("selftest:   cannot register %s: %s\n", what, uprobes_error_name(id));
        return false;
    }
    return true;
}

// Ends the test's result line (each test prints "selftest: <name>: <what it saw>" first).
bool report(bool pass) {
    kprintf(": %s\n", pass ? "PASS" : "FAIL");
    return pass;
}

// fib 15: 1973 calls; every call returns; the outermost return carries fib(15) = 610.
bool test_fib_entry_return() {
    const char* path = "/bin/fib";
    const uint64_t fib = program_symbol(path, "fib");
    counter entry = {}, ret = {};
    const int e = add_probe(path, fib, UPROBES_KIND_ENTRY, &entry);
    const int r = add_probe(path, fib, UPROBES_KIND_RETURN, &ret);
    bool ok = registered(e, "fib entry") && registered(r, "fib return");
    const int code = finish_program(start_program("/bin/fib 15 610"));
    uprobe_unregister(e);
    uprobe_unregister(r);
    kprintf("selftest: fib: entry %lu, return %lu, outermost return %lu, exit %d", entry.hits,
            ret.hits, ret.last_retval, code);
    ok = ok && entry.hits == 1973 && ret.hits == 1973 && ret.last_retval == 610 && code == 0;
    return report(ok);
}

// insns 100: each instruction of insn_mix runs once per call; the sum proves the displaced
// instructions (auipc + load, the branch) computed what they compute unprobed, and the atomic
// (run out of line) kept counting calls. The xol page lies within a jal's reach of the text
// (layout::xol_page_after): the atomic's slot jumps back, so every hit is one trap.
bool test_instruction_kinds() {
    const char* path = "/bin/insns";
    constexpr int n = 5;
    const char* labels[n] = {"insn_mix_compressed", "insn_mix_32bit", "insn_mix_auipc",
                             "insn_mix_branch", "insn_mix_atomic"};
    counter c[n] = {};
    int ids[n];
    bool ok = true;
    uint16_t low_half[n] = {};
    for (int i = 0; i < n; i++) {
        const uint64_t addr = program_symbol(path, labels[i]);
        ids[i] = add_probe(path, addr, UPROBES_KIND_INSN, &c[i]);
        ok = registered(ids[i], labels[i]) && ok;
        ok = program_read(path, addr, &low_half[i], 2) && ok;
    }
    // The first site holds a 16-bit instruction, the others 32-bit ones (RVC: low bits != 11).
    bool lengths = (low_half[0] & 3) != 3;
    for (int i = 1; i < n; i++) {
        lengths = lengths && (low_half[i] & 3) == 3;
    }
    uprobes_stats before = {}, after = {};
    uprobes_get_stats(&before);
    const int code = finish_program(start_program("/bin/insns 100 110550"));
    uprobes_get_stats(&after);
    for (int id : ids) {
        uprobe_unregister(id);
    }
    const uint64_t out_of_line = after.out_of_line - before.out_of_line;
    const uint64_t traps = after.traps - before.traps;
    kprintf("selftest: insns: compressed %lu, 32-bit %lu, auipc %lu, branch %lu, atomic %lu "
            "(%lu out of line), %lu traps, exit %d",
            c[0].hits, c[1].hits, c[2].hits, c[3].hits, c[4].hits, out_of_line, traps, code);
    for (int i = 0; i < n; i++) {
        ok = ok && c[i].hits == 100;
    }
    ok = ok && lengths && out_of_line == 100 && traps == n * 100 && code == 0;
    return report(ok);
}

// jump 10: level1..3 are entered 10 times; only the 5 odd rounds return through them, the even
// ones longjmp past all three frames. The program's sum (115) must not change.
bool test_return_through_longjmp() {
    const char* path = "/bin/jump";
    counter entry = {}, ret[3] = {};
    const char* names[3] = {"level1", "level2", "level3"};
    int ids[4];
    ids[0] = add_probe(path, program_symbol(path, "level1"), UPROBES_KIND_ENTRY, &entry);
    bool ok = registered(ids[0], "level1 entry");
    for (int i = 0; i < 3; i++) {
        ids[i + 1] = add_probe(path, program_symbol(path, names[i]), UPROBES_KIND_RETURN, &ret[i]);
        ok = registered(ids[i + 1], names[i]) && ok;
    }
    const int code = finish_program(start_program("/bin/jump 10 115"));
    for (int id : ids) {
        uprobe_unregister(id);
    }
    kprintf("selftest: jump: level1 entry %lu, returns %lu/%lu/%lu, exit %d", entry.hits,
            ret[0].hits, ret[1].hits, ret[2].hits, code);
    ok = ok && entry.hits == 10 && ret[0].hits == 5 && ret[1].hits == 5 && ret[2].hits == 5 &&
         code == 0;
    return report(ok);
}

// forker: work() runs twice in the parent and once in the child (before it execs hello).
// With a probe for every process both count; with a probe for the parent's pid only, the
// child's copy of the text must not keep the parent's breakpoint.
bool test_fork(bool parent_only) {
    const char* path = "/bin/forker";
    counter c = {};
    const long pid = start_program("/bin/forker");
    const int id = add_probe(path, program_symbol(path, "work"), UPROBES_KIND_ENTRY, &c,
                             parent_only ? static_cast<uint32_t>(pid) : UPROBES_ANY_PID);
    bool ok = registered(id, "work entry");
    const int code = finish_program(pid);
    uprobe_unregister(id);
    kprintf("selftest: %s: parent %lu, child %lu, exit %d",
            parent_only ? "fork_parent_only" : "fork_both", c.hits_of(pid), c.hits_not_of(pid),
            code);
    ok = ok && c.hits_of(pid) == 2 && c.hits_not_of(pid) == (parent_only ? 0u : 1u) && code == 0;
    return report(ok);
}

// Arming changes the text of a live process; disarming gives back exactly the file's bytes.
bool test_text_restored() {
    const char* path = "/bin/fib";
    const uint64_t fib = program_symbol(path, "fib");
    const long pid = start_program("/bin/fib 15 610");
    const uint64_t before = text_checksum(static_cast<int>(pid));
    counter c = {};
    int ids[2];
    ids[0] = add_probe(path, fib, UPROBES_KIND_ENTRY, &c);
    ids[1] = add_probe(path, program_symbol(path, "main"), UPROBES_KIND_INSN, &c);
    bool ok = registered(ids[0], "fib entry") && registered(ids[1], "main insn");
    const uint64_t armed = text_checksum(static_cast<int>(pid));
    uint16_t site = 0;
    process* p = find_process(static_cast<int>(pid));
    ok = p != nullptr && peek_user(p->page_table, &site, fib, 2) && ok;
    for (int id : ids) {
        uprobe_unregister(id);
    }
    const uint64_t after = text_checksum(static_cast<int>(pid));
    const int code = finish_program(pid);
    const bool is_breakpoint = site == 0x9002 || site == 0x0073; // c.ebreak / ebreak low half
    kprintf("selftest: text: file %s, armed %s, breakpoint %s, disarmed %s, exit %d",
            before == file_text_checksum(path) ? "equal" : "DIFFERENT",
            armed != before ? "changed" : "UNCHANGED", is_breakpoint ? "present" : "MISSING",
            after == before ? "equal" : "DIFFERENT", code);
    ok = ok && before == file_text_checksum(path) && armed != before && is_breakpoint &&
         after == before && c.hits == 0 && code == 0;
    return report(ok);
}

// Sites the engine must refuse, with its reason.
bool test_refusals() {
    const char* path = "/bin/insns";
    counter c = {};
    const int ecall =
        add_probe(path, program_symbol(path, "insn_mix_ecall"), UPROBES_KIND_INSN, &c);
    const int odd =
        add_probe(path, program_symbol(path, "insn_mix_32bit") + 1, UPROBES_KIND_INSN, &c);
    const int mid =
        add_probe(path, program_symbol(path, "insn_mix_32bit") + 2, UPROBES_KIND_INSN, &c);
    const int outside = add_probe(path, 0x1000, UPROBES_KIND_INSN, &c);
    kprintf("selftest: refuse: ecall %s, odd address %s, mid-instruction %s, outside text %s",
            uprobes_error_name(ecall), uprobes_error_name(odd), uprobes_error_name(mid),
            uprobes_error_name(outside));
    const bool ok = ecall == -UPROBES_E_INSN_ECALL && odd == -UPROBES_E_ADDR_MISALIGNED &&
                    mid == -UPROBES_E_ADDR_NOT_BOUNDARY && outside == -UPROBES_E_ADDR_OUTSIDE_TEXT;
    return report(ok);
}

} // namespace

int run_probe_selftests() {
    bool (*const tests[])() = {
        test_fib_entry_return,
        test_instruction_kinds,
        test_return_through_longjmp,
        [] { return test_fork(false); },
        [] { return test_fork(true); },
        test_text_restored,
        test_refusals,
        test_stop_probe_and_step,
        test_stop_running,
        test_step_from_entry,
        test_live_arm_and_disarm,
        test_conformance,
        test_smp_processes,
        test_smp_probes,
    };
    int passed = 0;
    int failed = 0;
    for (auto test : tests) {
        (test() ? passed : failed)++;
    }
    uprobes_stats stats = {};
    uprobes_get_stats(&stats);
    kprintf("selftest: engine: %lu traps, %lu hits, %lu simulated, %lu out of line, %lu returns, "
            "%lu return entries dropped by longjmp\n",
            stats.traps, stats.hits, stats.simulated, stats.out_of_line, stats.return_hits,
            stats.return_dropped);
    kprintf("selftest: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
