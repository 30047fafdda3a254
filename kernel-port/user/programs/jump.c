// jump N [EXPECTED]: N rounds (default 10); each round calls level1 -> level2 -> level3, which
// either returns normally (odd rounds) or longjmps straight back to main (even rounds). The levels
// are return-probe targets: probes must survive frames that never return. Exits 3 when EXPECTED is
// given and differs from the sum.
#include "ulib.h"

static jmp_buf env;

__attribute__((noipa)) long level3(long round) {
    if (round % 2 == 0) {
        longjmp(env, (int)round + 1);
    }
    return round * 3;
}

__attribute__((noipa)) long level2(long round) {
    return level3(round) + 2;
}

__attribute__((noipa)) long level1(long round) {
    return level2(round) + 1;
}

int main(int argc, char** argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 10;
    long sum = 0;
    long jumps = 0;
    for (long round = 0; round < rounds; round++) {
        int v = setjmp(env);
        if (v == 0) {
            sum += level1(round);
        } else {
            jumps++;
            sum += v;
        }
    }
    printf("jump: %ld rounds, %ld longjmps, sum %ld\n", rounds, jumps, sum);
    return argc > 2 && sum != atol(argv[2]) ? 3 : 0;
}
