// insns N [EXPECTED]: calls insn_mix (insn_mix.S) N times (default 100) and prints the sum: the
// target of instruction probes on compressed, 32-bit and PC-relative instructions. Exits 3 when
// EXPECTED is given and differs from the sum, 4 when the atomic's count is wrong.
#include "ulib.h"

long insn_mix(long n);
extern volatile long insn_mix_calls; // counted by insn_mix's amoadd.d

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 100;
    long sum = 0;
    for (long i = 0; i < n; i++) {
        sum += insn_mix(i);
    }
    printf("insns: %ld calls, sum %ld\n", n, sum);
    if (insn_mix_calls != n) {
        printf("insns: the atomic counted %ld calls\n", insn_mix_calls);
        return 4;
    }
    return argc > 2 && sum != atol(argv[2]) ? 3 : 0;
}
