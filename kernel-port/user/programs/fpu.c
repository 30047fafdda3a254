// fpu N: sums 1/i for i = 1..N (default 1000000) in double precision and prints the sum times
// 10^6 as an integer. Several copies running at once must all print the same value: the kernel
// keeps each process's F/D registers across preemption.
#include "ulib.h"

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    double sum = 0.0;
    for (long i = 1; i <= n; i++) {
        sum += 1.0 / (double)i;
    }
    printf("fpu: pid %ld, H(%ld) * 1e6 = %ld\n", getpid(), n, (long)(sum * 1000000.0));
    return 0;
}
