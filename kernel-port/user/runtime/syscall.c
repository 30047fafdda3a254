// System call wrappers of the user runtime (riscv64: number in a7, arguments in a0..a5, result
// in a0; negative results are errors).
#include "ulib.h"

static long syscall4(long n, long a0, long a1, long a2, long a3) {
    register long r0 __asm__("a0") = a0;
    register long r1 __asm__("a1") = a1;
    register long r2 __asm__("a2") = a2;
    register long r3 __asm__("a3") = a3;
    register long r7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r7) : "memory");
    return r0;
}

struct timespec_ {
    long sec;
    long nsec;
};

long write(int fd, const void* buf, unsigned long len) {
    return syscall4(SYS_write, fd, (long)buf, (long)len, 0);
}

void exit(int status) {
    syscall4(SYS_exit, status, 0, 0, 0);
    for (;;) {
    }
}

long getpid(void) {
    return syscall4(SYS_getpid, 0, 0, 0, 0);
}

long getppid(void) {
    return syscall4(SYS_getppid, 0, 0, 0, 0);
}

long fork(void) {
    return syscall4(SYS_clone, 17 /* SIGCHLD */, 0, 0, 0);
}

long execv(const char* path, char* const argv[]) {
    return syscall4(SYS_execve, (long)path, (long)argv, 0, 0);
}

long waitpid(long pid, int* status, int options) {
    return syscall4(SYS_wait4, pid, (long)status, options, 0);
}

long wait(int* status) {
    return waitpid(-1, status, 0);
}

long sched_yield(void) {
    return syscall4(SYS_sched_yield, 0, 0, 0, 0);
}

long kill(long pid, int signal) {
    return syscall4(SYS_kill, pid, signal, 0, 0);
}

long sleep_ms(unsigned long ms) {
    struct timespec_ req = {(long)(ms / 1000), (long)(ms % 1000) * 1000000};
    return syscall4(SYS_nanosleep, (long)&req, 0, 0, 0);
}

unsigned long time_ns(void) {
    struct timespec_ ts = {0, 0};
    syscall4(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0, 0);
    return (unsigned long)ts.sec * 1000000000ul + (unsigned long)ts.nsec;
}
