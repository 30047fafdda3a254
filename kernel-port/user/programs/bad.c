// bad MODE: misbehaves in one way, so the kernel must kill it with a reason and go on.
//   null     jump to address 0              (instruction page fault)
//   text     write its own (read-only) text (store page fault)
//   illegal  execute an illegal instruction (illegal instruction)
//   ebreak   execute an ebreak no probe put there (breakpoint)
//   kernel   read kernel memory             (load page fault)
//   stack    recurse until the stack runs out  (store page fault below the stack)
//   misaligned  an atomic on a misaligned address (address misaligned; QEMU reports it as a
//               load, the spec as a store/AMO)
#include "ulib.h"

__attribute__((noipa)) static unsigned long deeper(unsigned long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    if (n > (1ul << 40)) { // never: 256 bytes a call exhaust the 128 KiB stack long before
        return n;
    }
    return deeper(n + 1) + frame[0];
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    printf("bad: %s\n", mode);
    if (strcmp(mode, "null") == 0) {
        void (*volatile target)(void) = 0;
        target();
    } else if (strcmp(mode, "text") == 0) {
        volatile unsigned* text = (volatile unsigned*)(void*)&main;
        *text = 0;
    } else if (strcmp(mode, "illegal") == 0) {
        __asm__ volatile(".4byte 0x00000000"); // all-zero is illegal (unprivileged spec §16.1)
    } else if (strcmp(mode, "ebreak") == 0) {
        __asm__ volatile("ebreak");
    } else if (strcmp(mode, "stack") == 0) {
        printf("bad: %lu\n", deeper(0));
    } else if (strcmp(mode, "misaligned") == 0) {
        static volatile unsigned long words[2];
        volatile unsigned long* odd = (volatile unsigned long*)((char*)words + 2);
        __asm__ volatile("amoadd.d zero, %1, (%0)" : : "r"(odd), "r"(1ul) : "memory");
    } else if (strcmp(mode, "kernel") == 0) {
        volatile unsigned long* kernel = (volatile unsigned long*)0x80200000ul;
        printf("bad: read %lu\n", *kernel);
    } else {
        printf("bad: unknown mode '%s' (null, text, illegal, ebreak, kernel, stack, misaligned)\n",
               mode);
        return 2;
    }
    printf("bad: still alive after '%s'\n", mode);
    return 1;
}
