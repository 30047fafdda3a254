// System calls. Numbers are Linux riscv64's (asm-generic/unistd.h) where one exists, so the
// user runtime reads like Linux code; semantics are the small subset documented here:
//
//   nr   name            arguments                          result
//   64   write           fd (1 or 2), buf, len              bytes written
//   93   exit            code                               does not return
//   94   exit_group      code                               same as exit (one thread per process)
//   101  nanosleep       const timespec* req, timespec* rem 0 (rem untouched)
//   113  clock_gettime   clockid (any), timespec*           0; time since boot
//   124  sched_yield     -                                  0
//   129  kill            pid, signal                        0; the process exits with `signal`
//   172  getpid          -                                  pid
//   173  getppid         -                                  parent's pid (0 for none)
//   178  gettid          -                                  tid (== pid)
//   220  clone           flags (ignored): fork semantics    child's pid / 0 in the child
//   221  execve          path, argv, envp (ignored)         does not return on success
//   260  wait4           pid (-1 any), int* status, options (WNOHANG = 1), rusage (ignored)
//                                                          pid, 0 (WNOHANG) or -ECHILD
// Errors are -errno (proc/errno.hpp). Unknown numbers return -ENOSYS.
#pragma once

#include "arch/riscv64/trap_frame.hpp"

struct process;

namespace sys {
constexpr long write = 64, exit = 93, exit_group = 94, nanosleep = 101, clock_gettime = 113,
               sched_yield = 124, kill = 129, getpid = 172, getppid = 173, gettid = 178,
               clone = 220, execve = 221, wait4 = 260;
} // namespace sys

// Runs the system call in frame.a7 for `p` (sepc already past the ecall) and stores the result in
// frame.a0 (except for a successful execve, which set up a fresh frame).
void syscall_dispatch(process* p, trap_frame& frame);

// System calls handled since boot (the null-syscall benchmark reads it).
unsigned long syscall_count();
