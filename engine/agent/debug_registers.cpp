#include "agent/debug_registers.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

const uprobes_trap_context* context_of(const uprobes_trap_context& regs) {
    return &regs;
}

constexpr int ra_regno = 1;
constexpr uint64_t pc_bit = uint64_t{1} << 32;

} // namespace

void shown_registers(uint32_t pid, uint32_t tid, const uprobes_trap_context& regs,
                     ruprobes::wire::register_file& x, uint64_t& pc) {
    for (int i = 1; i < 32; i++) {
        x[i] = regs.x[i];
    }
    x[ra_regno] = uprobes_program_ra(pid, tid, context_of(regs));
    pc = uprobes_program_pc(pid, tid, context_of(regs));
}

void write_shown_registers(uint32_t pid, uint32_t tid, uprobes_trap_context& regs, uint64_t mask,
                           const ruprobes::wire::register_file& x, uint64_t pc) {
    // Both views are taken before anything changes: program_ra depends on sp.
    uint64_t shown_ra = uprobes_program_ra(pid, tid, context_of(regs));
    uint64_t shown_pc = uprobes_program_pc(pid, tid, context_of(regs));
    if ((mask & (1ull << ra_regno)) && x[ra_regno] != shown_ra &&
        uprobes_set_program_ra(pid, tid, context_of(regs), x[ra_regno]) == 0) {
        regs.x[ra_regno] = x[ra_regno];
    }
    for (int i = 2; i < 32; i++) {
        if (mask & (1ull << i)) {
            regs.x[i] = x[i];
        }
    }
    if ((mask & pc_bit) && pc != shown_pc) {
        regs.pc = pc;
    }
}

} // namespace agent
