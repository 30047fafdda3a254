// The kernel command line (QEMU -append, DTB /chosen/bootargs):
//
//   [flags] command ; [flags] command ; ...
//
// Segments are separated by ';'. A command is a program path and its arguments separated by
// spaces, optionally ending in '&' (run in the background). Words at the start of a segment that
// begin with "ruprobes." are flags for the kernel itself (no program path starts like that):
//   ruprobes.selftest      run the in-kernel probe test table before the commands
//   ruprobes.stay          keep running after the last command (for a host daemon)
//   ruprobes.bench[=N]     run the probe-cost benchmark (N iterations, default 100000)
//   ruprobes.kernel_fault  fault in the kernel on purpose (tests the panic path: status 101)
// Other subsystems may read their own "ruprobes.<name>[=value]" flags through kernel_flag().
// An empty command line runs default_commands.
#pragma once

#include <stddef.h>

constexpr const char* kernel_flag_prefix = "ruprobes.";
constexpr const char* default_commands = "/bin/hello";
constexpr int max_commands = 16;
constexpr int max_kernel_flags = 16;

// Splits `bootargs` into flags and commands (copies it; at most 511 bytes are kept). Call at
// boot; a later call replaces everything.
void command_line_init(const char* bootargs);

// True when the flag `name` (e.g. "ruprobes.selftest", also matching "ruprobes.selftest=...")
// was given.
bool kernel_flag(const char* name);

// The value of "name=value", or nullptr when the flag is absent or has no value.
const char* kernel_flag_value(const char* name);

// The commands, in order (each a trimmed, NUL-terminated segment).
int command_count();
const char* command_at(int index);

// The command line as given.
const char* command_line();
