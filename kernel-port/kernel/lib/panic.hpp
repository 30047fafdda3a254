// Broken kernel invariants: print a reason and power off with status 101.
#pragma once

struct trap_frame;

constexpr int panic_exit_status = 101;

// Prints "kernel panic: <message>" and powers the machine off with panic_exit_status.
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Prints every register of `frame` (x1..x31, sepc, sstatus) to the console.
void print_trap_frame(const trap_frame& frame);
