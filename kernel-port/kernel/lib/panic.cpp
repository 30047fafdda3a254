#include "lib/panic.hpp"

#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/trap_frame.hpp"
#include "lib/console.hpp"

namespace {
const char* const reg_names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                   "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                   "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                   "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
} // namespace

void panic(const char* fmt, ...) {
    asm volatile("csrci sstatus, 2");
    kprintf("kernel panic: ");
    va_list args;
    va_start(args, fmt);
    kvprintf(fmt, args);
    va_end(args);
    kprintf("\n");
    sbi::shutdown(panic_exit_status);
}

void print_trap_frame(const trap_frame& f) {
    for (int i = 1; i < 32; i++) {
        kprintf("  %-4s %016lx%s", reg_names[i], f.x[i], (i % 4 == 3) ? "\n" : "");
    }
    kprintf("  sepc %016lx  sstatus %016lx\n", f.sepc, f.sstatus);
}
