// loop N: calls step() N times (default 1000) and prints the sum: the benchmark target for
// probe-hit costs. loop_padding.S adds 10240 instructions to arm probes on.
// loop N K (1 <= K <= 10240): instead of step(), runs the last K instructions of loop_padding
// again and again until N of them ran: with a probe on each of those K instructions, N hits
// spread round-robin over K sites (no one-site cache can answer them).
#include "ulib.h"

void loop_padding(void);
static void (*volatile loop_padding_keep)(void) = loop_padding;

#define PADDING_INSNS 10240

__attribute__((noipa)) unsigned long step(unsigned long i) {
    return i * 3 + 1;
}

// Runs the last `k` nops of loop_padding (and its ret).
static void run_padding_tail(unsigned long k) {
    void (*tail)(void) = (void (*)(void))((char*)loop_padding_keep + 4 * (PADDING_INSNS - k));
    tail();
}

int main(int argc, char** argv) {
    unsigned long n = argc > 1 ? (unsigned long)atol(argv[1]) : 1000;
    unsigned long k = argc > 2 ? (unsigned long)atol(argv[2]) : 0;
    if (k > PADDING_INSNS) {
        printf("loop: K must be at most %d\n", PADDING_INSNS);
        return 2;
    }
    if (k > 0) {
        for (unsigned long left = n; left > 0;) {
            unsigned long now = left < k ? left : k;
            run_padding_tail(now);
            left -= now;
        }
        printf("loop: %lu instructions over the last %lu of loop_padding\n", n, k);
        return 0;
    }
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        sum += step(i);
    }
    printf("loop: %lu iterations, sum %lu\n", n, sum);
    return 0;
}
