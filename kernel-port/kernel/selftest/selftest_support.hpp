// Helpers of the in-kernel probe self-tests: start a program held before its first instruction,
// let it run to its end, find symbols in the embedded images, checksum a process's text.
#pragma once

#include "ruprobes/ruprobes.h"

#include <stddef.h>
#include <stdint.h>

struct process;

// Starts `command` ("/bin/fib 15 610") as a child of the current kernel thread. It does not run
// user code before the caller waits for it (the kernel is not preemptible), so probes can be
// registered against the live process first: on several harts too, as the caller holds the big
// kernel lock until it sleeps. The pid, or a negative error.
long start_program(const char* command);

// Waits for child `pid` and returns its exit code (128 + signal when killed), or -1.
int finish_program(long pid);

// finish_program, and adds the harts the child ran on to `harts` (bit i: hart index i).
int finish_program_on(long pid, uint32_t& harts);

// Sleeps `ms` milliseconds in the calling kernel thread (other processes run meanwhile).
void pause_ms(uint64_t ms);

// Registers a trace probe of `kind` at `addr` of program `path` for `pid` whose handler is
// `handler` with `user`; the probe id, or a negative engine error.
int add_trace_probe(const char* path, uint64_t addr, uint8_t kind, uprobes_handler_fn handler,
                    void* user, uint32_t pid = UPROBES_ANY_PID);

// Address of `symbol` in the embedded program `path`, or 0.
uint64_t program_symbol(const char* path, const char* symbol);

// Copies `len` bytes of the program file `path` at link-time address `addr`; false if absent.
bool program_read(const char* path, uint64_t addr, void* dst, size_t len);

// FNV-1a over the user text [begin, end) of process `pid` as its memory holds it now
// (breakpoints included). 0 when it cannot be read.
uint64_t text_checksum(int pid);

// FNV-1a over the text of the program file `path` (the original bytes).
uint64_t file_text_checksum(const char* path);
