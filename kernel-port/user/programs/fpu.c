// fpu N: sums 1/i for i = 1..N (default 1000000) in double precision and prints the sum times
// 10^6 as an integer. Several copies running at once must all print the same value: the kernel
// keeps each process's F/D registers across preemption. The work is split into two functions a
// debugger can stop in: harmonic() keeps its double `sum` in an F register and returns it in fa0;
// scaled() takes doubles in fa0/fa1 and returns one.
#include "ulib.h"

__attribute__((noinline)) double harmonic(long n) {
    double sum = 0.0;
    for (long i = 1; i <= n; i++) {
        sum += 1.0 / (double)i;
    }
    return sum;
}

__attribute__((noinline)) double scaled(double x, double factor) {
    return x * factor;
}

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    double sum = harmonic(n);
    printf("fpu: pid %ld, H(%ld) * 1e6 = %ld\n", getpid(), n, (long)scaled(sum, 1000000.0));
    return 0;
}
