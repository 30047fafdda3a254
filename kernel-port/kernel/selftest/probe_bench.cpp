// Method: each measurement is the wall time (the `time` CSR) from starting a program to its exit,
// so program start-up cancels out between runs of the same program with and without probes:
//
//   null syscall   (syscall_bench N: N getpid calls) - (loop N: N calls of step(), unprobed)
//   simulated hit  (loop N with an instruction probe on step's first instruction) - (loop N)
//   out-of-line    (insns N, probe on the amoadd.d at insn_mix_atomic) - (insns N)
//   entry+return   (loop N with entry and return probes on step) - (loop N)
//   armed probes   the simulated hit again with 100 and 10,000 probes armed in /bin/loop (on
//                  loop_padding's nops, never hit): the hit path's lookup must stay flat. The
//                  exec of the probed program arms every probe, which the timing above would
//                  spread over the N calls; so the same program runs once more with one call
//                  (loop 1, armed alike, minus loop 1 unprobed: the arming and one hit), and
//                  the row is ((with - without) - (armed loop 1 - loop 1)) / (N - 1): the hit
//                  alone
//
// each divided by N (N - 1 for the armed rows). The variants run interleaved, `rounds` times, and
// each keeps its fastest run (the one least disturbed by the host). Ratios are cost / null syscall
// cost. Each probed variant also runs once more per round, untimed, with the port measuring the
// time spent inside the engine per breakpoint trap (lowest kept; the rest of a hit is the trap
// itself and the kernel's entry and exit paths).
#include "selftest/probe_bench.hpp"

#include "arch/riscv64/timer.hpp"
#include "boot/command_line.hpp"
#include "lib/console.hpp"
#include "port/kernel_hooks.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/ruprobes.h"

namespace {

constexpr int rounds = 5;
constexpr int max_armed = 10000;

int probe_ids[max_armed + 1];
int probe_count = 0;

void ignore_hit(uprobes_trap_context*, const uprobes_hit*, void*) {}

bool add_probe(const char* path, uint64_t addr, uint8_t kind) {
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = addr;
    spec.kind = kind;
    spec.mode = UPROBES_MODE_TRACE;
    spec.handler = ignore_hit;
    const int id = uprobe_register_spec(&spec);
    if (id <= 0) {
        kprintf("bench: probe at %lx in %s refused: %s\n", addr, path, uprobes_error_name(id));
        return false;
    }
    probe_ids[probe_count++] = id;
    return true;
}

void remove_probes() {
    for (int i = 0; i < probe_count; i++) {
        uprobe_unregister(probe_ids[i]);
    }
    probe_count = 0;
}

// An instruction probe on step's first instruction and `extra` more on loop_padding's nops.
bool arm_loop_step(int extra) {
    const uint64_t padding = program_symbol("/bin/loop", "loop_padding");
    bool ok = add_probe("/bin/loop", program_symbol("/bin/loop", "step"), UPROBES_KIND_INSN);
    for (int i = 0; ok && i < extra; i++) {
        ok = add_probe("/bin/loop", padding + 4 * static_cast<uint64_t>(i), UPROBES_KIND_INSN);
    }
    return ok && padding != 0;
}

struct variant {
    const char* name;
    int program;         // index into the commands: 0 loop, 1 syscall_bench, 2 insns, 3 loop 1
    int baseline;        // the variant it is compared with (-1: none)
    bool (*arm)();       // nullptr: unprobed
    int arming = -1;     // the variant measuring this one's arming (loop 1, armed alike), or -1
    bool helper = false; // measured for another row only: not profiled, not printed
    uint64_t best_ns = ~uint64_t{0};
    uint64_t engine_ns = 0; // in uprobes_trap_handler_ex per trap, lowest over the rounds
};

variant variants[] = {
    {"loop (baseline)", 0, -1, nullptr},
    {"null syscall (getpid)", 1, 0, nullptr},
    {"insns (baseline)", 2, -1, nullptr},
    {"simulated insn probe hit", 0, 0, [] { return arm_loop_step(0); }},
    {"out-of-line insn probe hit", 2, 2,
     [] {
         return add_probe("/bin/insns", program_symbol("/bin/insns", "insn_mix_atomic"),
                          UPROBES_KIND_INSN);
     }},
    {"entry+return probe pair", 0, 0,
     [] {
         const uint64_t step = program_symbol("/bin/loop", "step");
         return add_probe("/bin/loop", step, UPROBES_KIND_ENTRY) &&
                add_probe("/bin/loop", step, UPROBES_KIND_RETURN);
     }},
    {"simulated hit, 100 armed", 0, 0, [] { return arm_loop_step(99); }, 9},
    {"simulated hit, 10000 armed", 0, 0, [] { return arm_loop_step(max_armed - 1); }, 10},
    {"loop 1 (baseline)", 3, -1, nullptr, -1, true},
    {"100 armed, loop 1", 3, 8, [] { return arm_loop_step(99); }, -1, true},
    {"10000 armed, loop 1", 3, 8, [] { return arm_loop_step(max_armed - 1); }, -1, true},
};
constexpr int loop_once = 8; // the index of "loop 1 (baseline)" above

// (with - without) / n in tenths of ns.
uint64_t per_op_tenths(uint64_t with, uint64_t without, uint64_t n) {
    return with > without ? (with - without) * 10 / n : 0;
}

// The row of `v` in tenths of ns per operation: (with - without) / n, or for a variant with an
// arming measurement ((with - without) - (armed once - once)) / (n - 1).
uint64_t row_tenths(const variant& v, uint64_t n) {
    const uint64_t with = v.best_ns;
    const uint64_t without = variants[v.baseline].best_ns;
    if (v.arming < 0 || n < 2) {
        return per_op_tenths(with, without, n);
    }
    const variant& once = variants[v.arming];
    const uint64_t arming = once.best_ns > variants[once.baseline].best_ns
                                ? once.best_ns - variants[once.baseline].best_ns
                                : 0;
    const uint64_t total = with > without ? with - without : 0;
    return per_op_tenths(total, arming, n - 1);
}

void print_row(const variant& v, uint64_t tenths, uint64_t syscall_tenths) {
    const uint64_t ratio = syscall_tenths != 0 ? tenths * 100 / syscall_tenths : 0;
    kprintf("bench: %-28s %7lu.%lu ns  ratio %lu.%02lu", v.name, tenths / 10, tenths % 10,
            ratio / 100, ratio % 100);
    if (v.arm != nullptr) {
        kprintf("  (engine %lu ns per trap)", v.engine_ns);
    }
    kprintf("\n");
}

} // namespace

int run_probe_bench() {
    uint64_t n = 100000;
    if (const char* v = kernel_flag_value("ruprobes.bench")) {
        n = 0;
        for (; *v >= '0' && *v <= '9'; v++) {
            n = n * 10 + static_cast<uint64_t>(*v - '0');
        }
        n = n == 0 ? 100000 : n;
    }
    char commands[4][48];
    ksnprintf(commands[0], sizeof(commands[0]), "/bin/loop %lu", n);
    ksnprintf(commands[1], sizeof(commands[1]), "/bin/syscall_bench %lu", n);
    ksnprintf(commands[2], sizeof(commands[2]), "/bin/insns %lu", n);
    ksnprintf(commands[3], sizeof(commands[3]), "/bin/loop 1");
    static_assert(sizeof(variants) / sizeof(variants[0]) > loop_once);
    kprintf("bench: %lu iterations per run, %d interleaved rounds, fastest run of each\n", n,
            rounds);

    for (int round = 0; round < rounds; round++) {
        for (variant& v : variants) {
            // Probed variants run twice: timed, then profiled (two `time` reads per trap would
            // inflate the timing). Each keeps its fastest timing and its lowest engine time.
            for (int profiled = 0; profiled <= (v.arm != nullptr && !v.helper ? 1 : 0);
                 profiled++) {
                if (v.arm != nullptr && !v.arm()) {
                    remove_probes();
                    kprintf("bench: FAILED (%s: a probe was refused)\n", v.name);
                    return 1;
                }
                port_profile(profiled == 1);
                const uint64_t begin = timer_now();
                const int code = finish_program(start_program(commands[v.program]));
                const uint64_t ns = timer_ticks_to_ns(timer_now() - begin);
                uint64_t traps = 0;
                uint64_t engine_ns = 0;
                port_profile_read(traps, engine_ns);
                port_profile(false);
                remove_probes();
                if (code != 0) {
                    kprintf("bench: FAILED (%s: %s exited with %d)\n", v.name, commands[v.program],
                            code);
                    return 1;
                }
                if (profiled == 0) {
                    v.best_ns = ns < v.best_ns ? ns : v.best_ns;
                } else if (traps != 0 && (v.engine_ns == 0 || engine_ns / traps < v.engine_ns)) {
                    v.engine_ns = engine_ns / traps;
                }
            }
        }
    }

    const uint64_t syscall_tenths = per_op_tenths(variants[1].best_ns, variants[0].best_ns, n);
    for (const variant& v : variants) {
        if (v.baseline >= 0 && !v.helper) {
            print_row(v, row_tenths(v, n), syscall_tenths);
        }
    }
    kprintf("bench: armed rows: the hit alone, arming at exec subtracted (measured with loop 1)\n");
    kprintf("bench: done\n");
    return 0;
}
