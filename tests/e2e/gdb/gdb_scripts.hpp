// gdb Python snippets the gdb e2e tests share: written into the test's temp dir and sourced.
#pragma once

#include "ruprobes_test/temp_dir.hpp"

#include <string>

namespace ruprobes::test {

// Defines, for each function named in `functions`, the convenience variables
// $<name>_ecall (the address of its first ecall) and $<name>_before_ecall (the instruction
// before it), read from the program's disassembly. Returns the script's path.
std::string ecall_addresses_script(const temp_dir& dir, const std::string& functions);

// A script that stops at every breakpoint with `continue` `stops` times and, at each stop,
// single-steps `steps` times, printing `STOP <pc>` and then `PC <pc>` per step (hex). Returns
// its path.
std::string stepping_trace_script(const temp_dir& dir, int stops, int steps);

} // namespace ruprobes::test
