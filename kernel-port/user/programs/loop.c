// loop N: calls step() N times (default 1000) and prints the sum: the benchmark target for
// probe-hit costs.
#include "ulib.h"

__attribute__((noipa)) unsigned long step(unsigned long i) {
    return i * 3 + 1;
}

int main(int argc, char** argv) {
    unsigned long n = argc > 1 ? (unsigned long)atol(argv[1]) : 1000;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        sum += step(i);
    }
    printf("loop: %lu iterations, sum %lu\n", n, sum);
    return 0;
}
