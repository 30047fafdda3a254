/* A tiny riscv64 program with debug info for the symbol tests. Line numbers are part of the
   test: symbols_test.cpp names lines of this file, so edit both together. */
static int counter;

__attribute__((noinline)) int add_one(int x) {
    return x + 1;
}

__attribute__((noinline)) static int twice(int x) {
    counter++;
    return 2 * x;
}

int main(void) {
    int v = add_one(3);

    v = twice(v);
    return v;
}

void _start(void) {
    main();
    for (;;) {
    }
}

/* An ecall: the engine refuses to probe it (integration tests of probe.add). */
void do_ecall(void) {
    __asm__ volatile("ecall");
}
