// loop N: calls step() N times (default 1000) and prints the sum: the benchmark target for
// probe-hit costs. loop_padding.S adds 10240 never-executed instructions to arm probes on.
#include "ulib.h"

// Referenced (through a volatile read in main) so that --gc-sections keeps it; never called.
void loop_padding(void);
static void (*volatile loop_padding_keep)(void) = loop_padding;

__attribute__((noipa)) unsigned long step(unsigned long i) {
    return i * 3 + 1;
}

int main(int argc, char** argv) {
    unsigned long n = argc > 1 ? (unsigned long)atol(argv[1]) : 1000;
    unsigned long sum = loop_padding_keep != 0 ? 0 : 1;
    for (unsigned long i = 0; i < n; i++) {
        sum += step(i);
    }
    printf("loop: %lu iterations, sum %lu\n", n, sum);
    return 0;
}
