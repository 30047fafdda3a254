// fib N [EXPECTED]: prints fib(N) computed by plain recursion (default N = 15: 1973 calls of
// fib); exits 3 when EXPECTED is given and differs (the probe self-tests check the result so).
// fib is a probe target: noipa and no sibling calls keep every call a real call and return.
#include "ulib.h"

__attribute__((noipa)) unsigned long fib(unsigned long n) {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char** argv) {
    unsigned long n = argc > 1 ? (unsigned long)atol(argv[1]) : 15;
    unsigned long result = fib(n);
    printf("fib(%lu) = %lu\n", n, result);
    return argc > 2 && result != (unsigned long)atol(argv[2]) ? 3 : 0;
}
