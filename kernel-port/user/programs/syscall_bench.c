// syscall_bench N: N getpid calls (default 100000): the null-system-call round trip that probe
// costs are compared with. Prints the total and per-call time in nanoseconds.
#include "ulib.h"

int main(int argc, char** argv) {
    unsigned long n = argc > 1 ? (unsigned long)atol(argv[1]) : 100000;
    unsigned long begin = time_ns();
    for (unsigned long i = 0; i < n; i++) {
        getpid();
    }
    unsigned long elapsed = time_ns() - begin;
    printf("syscall_bench: %lu calls in %lu ns, %lu ns per call\n", n, elapsed,
           n > 0 ? elapsed / n : 0);
    return 0;
}
