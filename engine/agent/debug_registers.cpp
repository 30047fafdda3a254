#include "agent/debug_registers.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

const uprobes_trap_context* context_of(const trap_frame& regs) {
    return reinterpret_cast<const uprobes_trap_context*>(&regs);
}

constexpr int ra_regno = 1;
constexpr uint64_t pc_bit = uint64_t{1} << 32;

} // namespace

void shown_registers(int pid, const trap_frame& regs, ruprobes::wire::register_file& x,
                     uint64_t& pc) {
    auto id = static_cast<uint32_t>(pid); // tid == pid
    for (int i = 1; i < 32; i++) {
        x[i] = regs.x[i];
    }
    x[ra_regno] = uprobes_program_ra(id, id, context_of(regs));
    pc = uprobes_program_pc(id, id, context_of(regs));
}

void write_shown_registers(int pid, trap_frame& regs, uint64_t mask,
                           const ruprobes::wire::register_file& x, uint64_t pc) {
    auto id = static_cast<uint32_t>(pid);
    // Both views are taken before anything changes: program_ra depends on sp.
    uint64_t shown_ra = uprobes_program_ra(id, id, context_of(regs));
    uint64_t shown_pc = uprobes_program_pc(id, id, context_of(regs));
    if ((mask & (1ull << ra_regno)) && x[ra_regno] != shown_ra &&
        uprobes_set_program_ra(id, id, context_of(regs), x[ra_regno]) == 0) {
        regs.x[ra_regno] = x[ra_regno];
    }
    for (int i = 2; i < 32; i++) {
        if (mask & (1ull << i)) {
            regs.x[i] = x[i];
        }
    }
    if ((mask & pc_bit) && pc != shown_pc) {
        regs.sepc = pc;
    }
}

} // namespace agent
