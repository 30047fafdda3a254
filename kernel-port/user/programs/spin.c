// spin: prints its pid and then computes forever without system calls, until it is killed.
// Proves that the timer preempts user code.
#include "ulib.h"

int main(void) {
    printf("spin: pid %ld spinning\n", getpid());
    volatile unsigned long counter = 0;
    for (;;) {
        counter++;
    }
}
