// Creating, replacing and ending processes: spawn, exec, fork, exit, wait, kill.
#pragma once

#include "proc/process.hpp"

constexpr int max_exec_args = 16;
constexpr size_t max_exec_arg_bytes = 1024;

// Replaces the user image of `p` (any process not running in U-mode: the current one in execve,
// or a fresh slot) with the embedded program `path` and arguments `argv[0..argc)`, all kernel
// strings. On success the frame starts the program (a0 = argc, a1 = argv) and the result is
// argc; on failure -errno and `p` is unchanged.
long process_exec(process* p, const char* path, int argc, const char* const argv[]);

// Starts `path` with `argv` as a new process whose parent is `parent`. The new pid, or -errno.
long process_spawn(process* parent, const char* path, int argc, const char* const argv[]);

// Duplicates the current user process (registers with a0 = 0 in the child, memory copied).
// The child's pid, or -errno.
long process_fork(process* parent);

// Ends the current process with a Linux wait status (code << 8, or a signal number): frees its
// memory, hands its children to init, wakes its parent. Never returns.
[[noreturn]] void process_exit(process* p, int wait_status);

// Waits for a child of `parent` (`pid` = -1: any) to exit and reaps it. Returns its pid and
// stores its wait status, 0 when `nohang` and none has exited, -ECHILD when there is no such
// child, -EINTR when `parent` was killed while waiting.
long process_wait(process* parent, int pid, int* wait_status, bool nohang);

// Marks `pid` killed with `signal`: a sleeping or stopped process wakes up and it exits before
// running user code again. 0, -ESRCH (no such process) or -EPERM (a kernel thread).
long process_kill(int pid, int signal);

// The init process (pid 1), which adopts orphans.
process* init_process();
void set_init_process(process* p);

// Wait-status helpers (Linux encoding).
constexpr int wait_status_exited(int code) {
    return (code & 0xff) << 8;
}
constexpr int wait_status_signaled(int signal) {
    return signal & 0x7f;
}
// The shell's view: the exit code, or 128 + signal.
constexpr int wait_status_to_code(int status) {
    return (status & 0x7f) != 0 ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}
