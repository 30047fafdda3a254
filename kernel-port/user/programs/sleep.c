// sleep MS [NAME]: sleeps MS milliseconds (default 100) with nanosleep, measures the time it took
// with clock_gettime, yields once and prints what it saw. Exits 1 when it woke up too early.
#include "ulib.h"

int main(int argc, char** argv) {
    unsigned long ms = argc > 1 ? (unsigned long)atol(argv[1]) : 100;
    const char* name = argc > 2 ? argv[2] : "sleep";
    unsigned long begin = time_ns();
    long r = sleep_ms(ms);
    unsigned long slept = (time_ns() - begin) / 1000000;
    sched_yield();
    int early = slept < ms;
    printf("%s: pid %ld (parent %ld) slept %lu ms for %lu: %s\n", name, getpid(), getppid(), slept,
           ms, r == 0 && !early ? "ok" : "EARLY");
    return r == 0 && !early ? 0 : 1;
}
