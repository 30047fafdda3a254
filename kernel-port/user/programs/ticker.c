// ticker [PERIOD_MS] [COUNT]: every PERIOD_MS milliseconds (default 100) calls tick(i), which
// computes fib(i % 16) recursively and prints a line every 10 ticks; COUNT ticks (default 0:
// forever). A steady source of probe hits for demos and streaming tests.
#include "ulib.h"

__attribute__((noipa)) unsigned long fib(unsigned long n) {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

__attribute__((noipa)) unsigned long tick(unsigned long i) {
    return fib(i % 16);
}

int main(int argc, char** argv) {
    unsigned long period = argc > 1 ? (unsigned long)atol(argv[1]) : 100;
    unsigned long count = argc > 2 ? (unsigned long)atol(argv[2]) : 0;
    printf("ticker: pid %ld, a tick every %lu ms\n", getpid(), period);
    for (unsigned long i = 0; count == 0 || i < count; i++) {
        unsigned long v = tick(i);
        if (i % 10 == 9) {
            printf("ticker: tick %lu, fib(%lu) = %lu\n", i + 1, i % 16, v);
        }
        if (period > 0) {
            sleep_ms(period);
        }
    }
    return 0;
}
