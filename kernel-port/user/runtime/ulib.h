// The user runtime's interface: system calls and a few string helpers.
#ifndef RUPROBES_ULIB_H
#define RUPROBES_ULIB_H

// System call numbers (the reference kernel uses Linux's riscv64 numbers where one exists).
enum {
    SYS_write = 64,
    SYS_exit = 93,
};

long write(int fd, const void* buf, unsigned long len);
void exit(int status) __attribute__((noreturn));
unsigned long strlen(const char* s);
long puts(const char* s);

#endif
