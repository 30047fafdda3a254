// The registers a debugger sees of a stopped thread: the program's, never the engine's. A return
// probe puts its trampoline in ra, and a thread stopped inside an out-of-line step has its pc in
// the xol page; the host is shown the return address and the program address they stand for, and
// writing those values back leaves the engine's state alone.
#pragma once

#include "ruprobes/ruprobes.h"
#include "ruprobes/wire/messages.hpp"

namespace agent {

// x1..x31 and pc of `regs` (thread `tid` of `pid`) as the program sees them.
void shown_registers(uint32_t pid, uint32_t tid, const uprobes_trap_context& regs,
                     ruprobes::wire::register_file& x, uint64_t& pc);

// Writes the registers of `mask` (bit i: x_i, bit 32: pc) as a debugger means them: an ra or pc
// equal to the one shown changes nothing; another ra while a return probe is pending becomes the
// address the function returns to (through the trampoline: the probe still fires).
void write_shown_registers(uint32_t pid, uint32_t tid, uprobes_trap_context& regs, uint64_t mask,
                           const ruprobes::wire::register_file& x, uint64_t pc);

} // namespace agent
