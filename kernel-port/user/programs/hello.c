// hello: the smallest user program; prints one line and exits 0.
#include "ulib.h"

int main(void) {
    puts("hello from user space");
    return 0;
}
