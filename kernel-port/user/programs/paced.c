// paced RATE MS: calls step() RATE times per second (default 10000) for MS milliseconds (default
// 2000), then prints how many calls it made: a fixed offered load of probe hits (the fan-out
// benchmark's "fixed rate" round). It wakes every millisecond and catches up with the guest clock,
// so the mean rate is exact while single wake-ups may come in bursts of a timer tick's worth.
#include "ulib.h"

__attribute__((noipa)) unsigned long step(unsigned long i) {
    return i * 3 + 1;
}

int main(int argc, char** argv) {
    unsigned long rate = argc > 1 ? (unsigned long)atol(argv[1]) : 10000;
    unsigned long ms = argc > 2 ? (unsigned long)atol(argv[2]) : 2000;
    unsigned long total = rate * ms / 1000;
    unsigned long begin = time_ns();
    unsigned long done = 0, sum = 0;
    while (done < total) {
        unsigned long elapsed_us = (time_ns() - begin) / 1000;
        unsigned long due = rate * elapsed_us / 1000000;
        if (due > total)
            due = total;
        while (done < due)
            sum += step(done++);
        if (done < total)
            sleep_ms(1);
    }
    unsigned long took_ms = (time_ns() - begin) / 1000000;
    printf("paced: %lu calls in %lu ms (%lu/s asked), sum %lu\n", done, took_ms, rate, sum);
    return 0;
}
