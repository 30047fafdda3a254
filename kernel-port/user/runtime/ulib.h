// The user runtime's interface: system calls, formatted output, setjmp/longjmp and a few string
// helpers. System call numbers are Linux riscv64's (see kernel/proc/syscalls.hpp for the table).
#ifndef RUPROBES_ULIB_H
#define RUPROBES_ULIB_H

enum {
    SYS_write = 64,
    SYS_exit = 93,
    SYS_nanosleep = 101,
    SYS_clock_gettime = 113,
    SYS_sched_yield = 124,
    SYS_kill = 129,
    SYS_getpid = 172,
    SYS_getppid = 173,
    SYS_clone = 220,
    SYS_execve = 221,
    SYS_wait4 = 260,
};

// Wait statuses (Linux encoding).
#define WIFEXITED(s) (((s)&0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s)&0x7f) != 0)
#define WTERMSIG(s) ((s)&0x7f)
#define WNOHANG 1
#define SIGKILL 9

// System calls: negative results are -errno.
long write(int fd, const void* buf, unsigned long len);
void exit(int status) __attribute__((noreturn));
long getpid(void);
long getppid(void);
long fork(void);
// Replaces the program with `path`; argv is NULL-terminated. Returns only on error.
long execv(const char* path, char* const argv[]);
long wait(int* status);
long waitpid(long pid, int* status, int options);
long sched_yield(void);
long kill(long pid, int signal);
// Sleeps at least `ms` milliseconds.
long sleep_ms(unsigned long ms);
// Nanoseconds since boot.
unsigned long time_ns(void);

// Output: printf supports %d %i %u %x %p %s %c %% with l/z modifiers and a width; at most 256
// bytes per call.
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
long puts(const char* s);

unsigned long strlen(const char* s);
int strcmp(const char* a, const char* b);
long atol(const char* s);
void* memcpy(void* dst, const void* src, unsigned long n);
void* memset(void* dst, int c, unsigned long n);

// Non-local jumps: ra, sp, s0..s11 and fs0..fs11 (psABI callee-saved registers).
typedef unsigned long jmp_buf[26];
int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int value) __attribute__((noreturn));

#endif
