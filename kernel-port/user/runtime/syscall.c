// System call wrappers of the user runtime (riscv64: number in a7, arguments in a0..a5, result
// in a0; negative results are errors).
#include "ulib.h"

static long syscall3(long n, long a0, long a1, long a2) {
    register long r0 __asm__("a0") = a0;
    register long r1 __asm__("a1") = a1;
    register long r2 __asm__("a2") = a2;
    register long r7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}

long write(int fd, const void* buf, unsigned long len) {
    return syscall3(SYS_write, fd, (long)buf, (long)len);
}

void exit(int status) {
    syscall3(SYS_exit, status, 0, 0);
    for (;;) {
    }
}

unsigned long strlen(const char* s) {
    unsigned long n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

long puts(const char* s) {
    long n = write(1, s, strlen(s));
    if (n < 0) {
        return n;
    }
    return n + write(1, "\n", 1);
}
