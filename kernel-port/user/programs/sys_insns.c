// sys_insns N: runs N times one of each instruction class that a trace probe refuses and a
// debugger breakpoint accepts, at global labels a debugger can break on: a CSR read
// (sys_insns_csr: rdtime), sys_insns_fence_i, an lr/sc increment of a counter (sys_insns_lr,
// sys_insns_sc) and a system call (sys_insns_ecall: getpid). Prints the counter; exits 4 when
// it is not N (an lr/sc pair ran more or less than once per call).
#include "ulib.h"

static volatile long counter;
static volatile long calls; // counted after each call, plainly (a watchpoint target)

__attribute__((noipa)) long sys_insns(void) {
    unsigned long time;
    long value;
    long failed;
    __asm__ volatile(".globl sys_insns_csr\nsys_insns_csr:\n\trdtime %0" : "=r"(time));
    __asm__ volatile(".globl sys_insns_fence_i\nsys_insns_fence_i:\n\tfence.i" ::: "memory");
    do {
        __asm__ volatile(".globl sys_insns_lr\nsys_insns_lr:\n\tlr.d %0, (%2)\n"
                         "\taddi %0, %0, 1\n"
                         ".globl sys_insns_sc\nsys_insns_sc:\n\tsc.d %1, %0, (%2)"
                         : "=&r"(value), "=&r"(failed)
                         : "r"(&counter)
                         : "memory");
    } while (failed != 0);
    register long a0 __asm__("a0") = 0;
    register long a7 __asm__("a7") = SYS_getpid;
    __asm__ volatile(".globl sys_insns_ecall\nsys_insns_ecall:\n\tecall"
                     : "+r"(a0)
                     : "r"(a7)
                     : "memory");
    return (time != 0 ? 1 : 0) + (a0 > 0 ? 1 : 0);
}

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 3;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        ok += sys_insns();
        calls++;
    }
    printf("sys_insns: %ld calls, counter %ld, %ld checks passed\n", n, counter, ok);
    return counter == n && calls == n && ok == 2 * n ? 0 : 4;
}
