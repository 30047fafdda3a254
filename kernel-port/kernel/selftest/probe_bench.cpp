// Method: each measurement is the wall time (the `time` CSR) from starting a program to its exit,
// so program start-up cancels out between runs of the same program with and without probes:
//
//   null syscall   (syscall_bench N: N getpid calls) - (loop N: N calls of step(), unprobed)
//   simulated hit  (loop N with an instruction probe on step's first instruction) - (loop N)
//   entry+return   (loop N with entry and return probes on step) - (loop N)
//   out-of-line    (insns N, probe on the amoadd.d at insn_mix_atomic) - (insns N)
//
// each divided by N. Every variant runs `rounds` times and the fastest run counts (least
// disturbed by the host). Ratios are probe cost / null syscall cost.
#include "selftest/probe_bench.hpp"

#include "arch/riscv64/timer.hpp"
#include "boot/command_line.hpp"
#include "lib/console.hpp"
#include "selftest/selftest_support.hpp"

#include "ruprobes/ruprobes.h"

namespace {

constexpr int rounds = 3;

void ignore_hit(uprobes_trap_context*, const uprobes_hit*, void*) {}

int add_probe(const char* path, const char* symbol, uint8_t kind) {
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = program_symbol(path, symbol);
    spec.kind = kind;
    spec.mode = UPROBES_MODE_TRACE;
    spec.handler = ignore_hit;
    return uprobe_register_spec(&spec);
}

// Fastest of `rounds` runs of `command`, in ns; 0 when a run failed.
uint64_t time_program(const char* command) {
    uint64_t best = ~uint64_t{0};
    for (int i = 0; i < rounds; i++) {
        const uint64_t begin = timer_now();
        if (finish_program(start_program(command)) != 0) {
            return 0;
        }
        const uint64_t t = timer_now() - begin;
        best = t < best ? t : best;
    }
    return timer_ticks_to_ns(best);
}

// (with - without) / n in ns, printed with one decimal as tenths.
uint64_t per_op_tenths(uint64_t with, uint64_t without, uint64_t n) {
    return with > without ? (with - without) * 10 / n : 0;
}

void print_row(const char* what, uint64_t tenths, uint64_t syscall_tenths) {
    const uint64_t ratio = syscall_tenths != 0 ? tenths * 100 / syscall_tenths : 0;
    kprintf("bench: %-26s %6lu.%lu ns  ratio %lu.%02lu\n", what, tenths / 10, tenths % 10,
            ratio / 100, ratio % 100);
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
    char loop[48], bench[48], insns[48];
    ksnprintf(loop, sizeof(loop), "/bin/loop %lu", n);
    ksnprintf(bench, sizeof(bench), "/bin/syscall_bench %lu", n);
    ksnprintf(insns, sizeof(insns), "/bin/insns %lu", n);
    kprintf("bench: %lu iterations per run, best of %d runs\n", n, rounds);

    const uint64_t loop_plain = time_program(loop);
    const uint64_t syscalls = time_program(bench);
    const uint64_t insns_plain = time_program(insns);

    int id = add_probe("/bin/loop", "step", UPROBES_KIND_INSN);
    const uint64_t loop_insn = id > 0 ? time_program(loop) : 0;
    uprobe_unregister(id);

    const int entry = add_probe("/bin/loop", "step", UPROBES_KIND_ENTRY);
    const int ret = add_probe("/bin/loop", "step", UPROBES_KIND_RETURN);
    const uint64_t loop_pair = entry > 0 && ret > 0 ? time_program(loop) : 0;
    uprobe_unregister(entry);
    uprobe_unregister(ret);

    id = add_probe("/bin/insns", "insn_mix_atomic", UPROBES_KIND_INSN);
    const uint64_t insns_ool = id > 0 ? time_program(insns) : 0;
    uprobe_unregister(id);

    if (loop_plain == 0 || syscalls == 0 || insns_plain == 0 || loop_insn == 0 || loop_pair == 0 ||
        insns_ool == 0) {
        kprintf("bench: FAILED (a program failed or a probe was refused)\n");
        return 1;
    }
    const uint64_t syscall_tenths = per_op_tenths(syscalls, loop_plain, n);
    print_row("null syscall (getpid)", syscall_tenths, syscall_tenths);
    print_row("simulated insn probe hit", per_op_tenths(loop_insn, loop_plain, n), syscall_tenths);
    print_row("out-of-line insn probe hit", per_op_tenths(insns_ool, insns_plain, n),
              syscall_tenths);
    print_row("entry+return probe pair", per_op_tenths(loop_pair, loop_plain, n), syscall_tenths);
    kprintf("bench: done\n");
    return 0;
}
