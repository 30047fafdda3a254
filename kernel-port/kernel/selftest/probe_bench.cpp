// Method: each measurement is the wall time (the `time` CSR) from starting a program to its exit,
// so program start-up cancels out between runs of the same program with and without probes:
//
//   null syscall   (syscall_bench N: N getpid calls) - (loop N: N calls of step(), unprobed)
//   simulated hit  (loop N with an instruction probe on step's first instruction) - (loop N)
//   out-of-line    (insns N, probe on the amoadd.d at insn_mix_atomic) - (insns N)
//   entry+return   (loop N with entry and return probes on step) - (loop N)
//   round robin    (loop N K with a probe on each of the last K nops of loop_padding: N hits
//                  spread round-robin over K sites) - (loop N K), for K = 1, 100 and 10,000:
//                  no one-site cache answers these hits. The exec of the probed program arms
//                  every probe, which the timing above would spread over the N hits; so the
//                  same program runs once more with no hit (loop 0 K, armed alike, minus loop
//                  0 K unprobed: the arming; K = 100 and 10,000 only, one probe arms in next to
//                  no time) and the row is ((with - without) - arming) / N
//
//   4 at once      (4 x loop N at once, probe on step) - (4 x loop N at once), divided by 4N:
//                  on several harts each runs on its own, so the row over the simulated hit's
//                  is what a hit costs more when 4 harts hit one probe together (the big
//                  kernel lock; kernel-port/README.md, "SMP"). In-kernel handler only.
//   null syscall, 4 at once  (4 x syscall_bench N at once) - (4 x loop N at once), divided by 4N:
//                  the same on the trap path without the engine, printed on its own line: how
//                  the kernel itself scales with the harts (what a hit on several harts can
//                  gain at most).
//   user code, 4 at once  (4 x loop 50N at once) - (4 x loop N at once), divided by 4 x 49N: no
//                  trap at all, printed on its own line: how well the machine runs the harts at
//                  once (under MTTCG, one host thread a hart).
//
// each divided by N. Time all harts spent idle (wfi) during a run is subtracted, so that under
// `-icount` (the harts run in turn) a run's time is the instructions it took.
//
// With `ruprobes.bench.host` the benchmark first waits for a host session (ruprobesd connected)
// and every hit also goes through the agent: into its ring, out in hits frames over the virtio
// console. A run then ends when the program exited and the agent has sent every record, so the
// rows include the shipping; the records dropped (ring full) are printed at the end. The variants
// run interleaved, `rounds` times, and each keeps its fastest run (the one least disturbed by the
// host). Ratios are cost / null syscall cost. Each probed variant also runs once more per round,
// untimed, with the port measuring the time spent inside the engine per breakpoint trap (lowest
// kept; the rest of a hit is the trap itself and the kernel's entry and exit paths).
#include "selftest/probe_bench.hpp"

#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/timer.hpp"
#include "boot/command_line.hpp"
#include "lib/console.hpp"
#include "port/agent_port.hpp"
#include "port/kernel_hooks.hpp"
#include "proc/scheduler.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/agent.h"

#include "ruprobes/ruprobes.h"

namespace {

ruprobes_agent_stats agent_stats() {
    ruprobes_agent_stats st;
    ruprobes_agent_get_stats(&st);
    return st;
}

constexpr int rounds = 5;
constexpr int max_armed = 10000;

int probe_ids[max_armed + 1];
int probe_count = 0;

void ignore_hit(uprobes_trap_context*, const uprobes_hit*, void*) {}

// In-kernel handler only: each probe has ignore_hit as its handler (the hit feeds it, nothing
// leaves the kernel). With the host, the probes are registered as the agent registers those a
// client adds (probe.add): no handler, every hit goes to the agent.
bool with_handler = true;

bool add_probe(const char* path, uint64_t addr, uint8_t kind) {
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = addr;
    spec.kind = kind;
    spec.mode = UPROBES_MODE_TRACE;
    spec.handler = with_handler ? ignore_hit : nullptr;
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

constexpr uint64_t padding_insns = 10240; // loop_padding's nops (loop_padding.S)

// An instruction probe on step's first instruction.
bool arm_loop_step() {
    return add_probe("/bin/loop", program_symbol("/bin/loop", "step"), UPROBES_KIND_INSN);
}

// An instruction probe on each of the last `k` nops of loop_padding (the ones `loop N k` runs).
bool arm_padding_tail(uint64_t k) {
    const uint64_t padding = program_symbol("/bin/loop", "loop_padding");
    bool ok = padding != 0;
    for (uint64_t i = padding_insns - k; ok && i < padding_insns; i++) {
        ok = add_probe("/bin/loop", padding + 4 * i, UPROBES_KIND_INSN);
    }
    return ok;
}

struct variant {
    const char* name;
    int program;         // index into the commands (see run_probe_bench)
    int baseline;        // the variant it is compared with (-1: none)
    bool (*arm)();       // nullptr: unprobed
    int arming = -1;     // the variant measuring this one's arming (no hit, armed alike), or -1
    bool helper = false; // measured for another row only: not profiled, not printed
    int copies = 1;      // programs started at once (the row is per hit of one of them)
    uint64_t best_ns = ~uint64_t{0};
    uint32_t best_harts = 0; // the harts the copies of the fastest run ran on (bit i: index i)
    uint64_t engine_ns = 0;  // in the engine per trap (uprobes_trap_handler_thread), lowest
                             // over the rounds
};

// Commands: 0 loop N, 1 syscall_bench N, 2 insns N, 3 loop N 1, 4 loop N 100, 5 loop N 10000,
// 6 loop 0 10000 (exec only), 7 loop 50N (user code only, for the harts' scaling).
variant variants[] = {
    {"loop (baseline)", 0, -1, nullptr},
    {"null syscall (getpid)", 1, 0, nullptr},
    {"insns (baseline)", 2, -1, nullptr},
    {"simulated insn probe hit", 0, 0, [] { return arm_loop_step(); }},
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
    // Arming one probe at exec costs next to nothing: subtracting its noisy measurement could
    // only make this row, the others' denominator, wrong.
    {"round-robin hit, 1 site", 3, 9, [] { return arm_padding_tail(1); }},
    {"round-robin hit, 100 sites", 4, 10, [] { return arm_padding_tail(100); }, 12},
    {"round-robin hit, 10000 sites", 5, 11, [] { return arm_padding_tail(10000); }, 13},
    {"loop N 1 (baseline)", 3, -1, nullptr, -1, true},
    {"loop N 100 (baseline)", 4, -1, nullptr, -1, true},
    {"loop N 10000 (baseline)", 5, -1, nullptr, -1, true},
    {"100 armed, no hit", 6, 14, [] { return arm_padding_tail(100); }, -1, true},
    {"10000 armed, no hit", 6, 14, [] { return arm_padding_tail(10000); }, -1, true},
    {"loop 0 (baseline)", 6, -1, nullptr, -1, true},
    {"4 x loop N (baseline)", 0, -1, nullptr, -1, true, 4},
    {"simulated hit, 4 at once", 0, 15, [] { return arm_loop_step(); }, -1, false, 4},
    {"null syscall, 4 at once", 1, 15, nullptr, -1, true, 4},
    {"4 x loop 50N (user code)", 7, 15, nullptr, -1, true, 4},
};
// "simulated hit, 4 at once" (not run with the host: in-kernel only).
constexpr int four_at_once = 16;
// The kernel's own scaling, no probe: 4 x syscall_bench N at once over 4 x loop N at once, per
// call. What the harts cannot gain on the trap path without the engine, the hits cannot either.
constexpr int syscalls_four_at_once = 17;
// And without any trap: 4 x loop 50N at once over 4 x loop N at once, per iteration (user code
// only: how the machine runs the harts at once, the ceiling of the two rows above).
constexpr int user_code_four_at_once = 18;

// Each round's timed run of the row above: its time and the harts the 4 ran on.
uint64_t four_round_ns[rounds];
uint32_t four_round_harts[rounds];

// Runs `copies` instances of `command` at once and waits for all; the first non-zero exit code.
// `harts`: the harts they ran on.
int run_copies(const char* command, int copies, uint32_t& harts) {
    long pids[4];
    for (int i = 0; i < copies; i++) {
        pids[i] = start_program(command);
    }
    int code = 0;
    for (int i = 0; i < copies; i++) {
        const int c = finish_program_on(pids[i], harts);
        code = code != 0 ? code : c;
    }
    return code;
}

int count_bits(uint32_t v) {
    int n = 0;
    for (; v != 0; v &= v - 1) {
        n++;
    }
    return n;
}

// (with - without) / n in tenths of ns.
uint64_t per_op_tenths(uint64_t with, uint64_t without, uint64_t n) {
    return with > without ? (with - without) * 10 / n : 0;
}

// The row of `v` in tenths of ns per operation: (with - without) / n, or for a variant with an
// arming measurement ((with - without) - (armed, no hit - unarmed, no hit)) / n.
uint64_t row_tenths(const variant& v, uint64_t n) {
    const uint64_t with = v.best_ns;
    const uint64_t without = variants[v.baseline].best_ns;
    if (v.arming < 0) {
        return per_op_tenths(with, without, n);
    }
    const variant& once = variants[v.arming];
    const uint64_t arming = once.best_ns > variants[once.baseline].best_ns
                                ? once.best_ns - variants[once.baseline].best_ns
                                : 0;
    const uint64_t total = with > without ? with - without : 0;
    return per_op_tenths(total, arming, n);
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

// Sleeps until the agent has sent every hit record (host mode).
void wait_hits_sent() {
    static char channel;
    while (agent_stats().hits_unsent > 0) {
        sleep_on(&channel, timer_now() + timer_ns_to_ticks(1'000'000));
    }
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
    char commands[8][48];
    ksnprintf(commands[0], sizeof(commands[0]), "/bin/loop %lu", n);
    ksnprintf(commands[1], sizeof(commands[1]), "/bin/syscall_bench %lu", n);
    ksnprintf(commands[2], sizeof(commands[2]), "/bin/insns %lu", n);
    ksnprintf(commands[3], sizeof(commands[3]), "/bin/loop %lu 1", n);
    ksnprintf(commands[4], sizeof(commands[4]), "/bin/loop %lu 100", n);
    ksnprintf(commands[5], sizeof(commands[5]), "/bin/loop %lu 10000", n);
    ksnprintf(commands[6], sizeof(commands[6]), "/bin/loop 0 10000");
    ksnprintf(commands[7], sizeof(commands[7]), "/bin/loop %lu", 50 * n);
    const bool host = kernel_flag("ruprobes.bench.host");
    with_handler = !host;
    if (host) {
        static char channel;
        if (!agent_port_running()) {
            kprintf("bench: FAILED (ruprobes.bench.host without a virtio console)\n");
            return 1;
        }
        kprintf("bench: waiting for the host (ruprobesd) to connect\n");
        while (!agent_stats().host_connected) {
            sleep_on(&channel, timer_now() + timer_ns_to_ticks(10'000'000));
        }
    }
    const uint64_t dropped_before = host ? agent_stats().hits_dropped : 0;
    kprintf("bench: %lu iterations per run, %d interleaved rounds, fastest run of each%s\n", n,
            rounds, host ? "; every hit shipped to the host" : "");

    for (int round = 0; round < rounds; round++) {
        for (variant& v : variants) {
            if (host && v.copies > 1) {
                continue;
            }
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
                const uint64_t idle_before = scheduler_idle_ticks();
                uint32_t ran_on = 0;
                const int code = run_copies(commands[v.program], v.copies, ran_on);
                if (host) {
                    wait_hits_sent();
                }
                const uint64_t idle = scheduler_idle_ticks() - idle_before;
                const uint64_t ns = timer_ticks_to_ns(timer_now() - begin - idle);
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
                    if (&v == &variants[four_at_once]) {
                        four_round_ns[round] = ns;
                        four_round_harts[round] = ran_on;
                    }
                    if (ns < v.best_ns) {
                        v.best_ns = ns;
                        v.best_harts = ran_on;
                    }
                } else if (traps != 0 && (v.engine_ns == 0 || engine_ns / traps < v.engine_ns)) {
                    v.engine_ns = engine_ns / traps;
                }
            }
        }
    }

    const uint64_t syscall_tenths = per_op_tenths(variants[1].best_ns, variants[0].best_ns, n);
    for (const variant& v : variants) {
        if (v.baseline >= 0 && !v.helper && (!host || v.copies == 1)) {
            print_row(v, row_tenths(v, n * static_cast<uint64_t>(v.copies)), syscall_tenths);
        }
    }
    if (!host) {
        const uint64_t one = row_tenths(variants[3], n);
        const uint64_t four = row_tenths(variants[four_at_once], 4 * n);
        const uint64_t ratio = one != 0 ? four * 100 / one : 0;
        kprintf("bench: per hit, 4 at once / 1 alone: %lu.%02lu on %u harts\n", ratio / 100,
                ratio % 100, harts_online);
        kprintf("bench: 4 at once, fastest run: the 4 ran on %d of %u harts\n",
                count_bits(variants[four_at_once].best_harts), harts_online);
        const variant& base = variants[variants[four_at_once].baseline];
        // The controls, beside the 4 at once row and over its baseline.
        const variant& calls_row = variants[syscalls_four_at_once];
        const uint64_t calls = per_op_tenths(calls_row.best_ns, base.best_ns, 4 * n);
        kprintf("bench: null syscall, 4 at once: %lu.%lu ns per call, fastest run on %d of %u "
                "harts\n",
                calls / 10, calls % 10, count_bits(calls_row.best_harts), harts_online);
        const variant& user = variants[user_code_four_at_once];
        const uint64_t iteration_hundredths =
            user.best_ns > base.best_ns ? (user.best_ns - base.best_ns) * 100 / (4 * 49 * n) : 0;
        kprintf("bench: user code, 4 at once: %lu.%02lu ns per loop iteration, fastest run on %d "
                "of %u harts\n",
                iteration_hundredths / 100, iteration_hundredths % 100, count_bits(user.best_harts),
                harts_online);
        // Every round too: where the harts run in turn (QEMU -icount), how much the 4 overlapped
        // differs from run to run, and the fastest run is the one where they overlapped least.
        for (int r = 0; r < rounds; r++) {
            const uint64_t tenths = per_op_tenths(four_round_ns[r], base.best_ns, 4 * n);
            kprintf("bench: 4 at once, round %d: %lu.%lu ns per hit, the 4 ran on %d of %u harts\n",
                    r + 1, tenths / 10, tenths % 10, count_bits(four_round_harts[r]), harts_online);
        }
    }
    kprintf("bench: round-robin rows: the hit alone, arming at exec subtracted (measured with "
            "loop 0)\n");
    if (host) {
        kprintf("bench: hit records dropped (ring full): %lu\n",
                agent_stats().hits_dropped - dropped_before);
    }
    kprintf("bench: done\n");
    return 0;
}
