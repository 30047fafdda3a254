// The CPU of the simulated kernel: the engine's own decoder and simulator (ruprobes/insn.hpp,
// ruprobes/simulate.hpp) run every RV64I/M/C integer instruction of a user program against its
// register file and address space. ecall goes to the system calls, ebreak / c.ebreak to the
// kernel's breakpoint trap (and so to the probe engine); fence.i is a no-op (instruction fetch
// always reads memory). Anything else (F, D, A, CSR access) is beyond this CPU: the process is
// killed with a message that names the instruction.
#include "sim_kernel.hpp"

#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <cinttypes>
#include <cstdio>

namespace sim {

namespace {

// User loads and stores of `as`, with user permissions.
class user_memory final : public ruprobes::memory_port {
public:
    explicit user_memory(address_space& as) : as_(as) {}
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        out = 0;
        return as_.read(addr, &out, size, perm::read);
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        return as_.write(addr, &value, size, perm::write);
    }

private:
    address_space& as_;
};

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

} // namespace

uint64_t run_instructions(kernel& k, process& p, uint64_t budget, const bool& yield_flag) {
    user_memory mem(p.memory);
    uint64_t ran = 0;
    while (ran < budget && p.state == process_state::runnable && !p.stopped() &&
           p.kill_signal == 0 && !yield_flag) {
        const uint64_t pc = p.regs.pc;
        uint16_t low = 0;
        uint16_t high = 0;
        if (!p.memory.read(pc, &low, 2, perm::exec) ||
            ((low & 3) == 3 && !p.memory.read(pc + 2, &high, 2, perm::exec))) {
            uprobes_fixup_fault(&p.regs);
            k.fault(p, sig::segv, "instruction fetch fault at pc " + hex(pc));
            break;
        }
        const ruprobes::decoded_insn d = ruprobes::decode_bits(uint32_t{high} << 16 | low);
        ran++;
        p.instructions++;
        if (d.op == ruprobes::opcode::ecall) {
            p.regs.pc = pc + 4;
            dispatch_syscall(k, p);
            continue;
        }
        if (d.op == ruprobes::opcode::ebreak) {
            execute_breakpoint(k, p);
            continue;
        }
        if (d.op == ruprobes::opcode::fence_i) {
            p.regs.pc = pc + d.length;
            continue;
        }
        if (d.cls != ruprobes::insn_class::simulate) {
            char text[64];
            ruprobes::format_insn(d, text, sizeof text);
            uprobes_fixup_fault(&p.regs);
            k.fault(p, sig::ill,
                    "the simulated CPU cannot execute '" + std::string(text) + "' at pc " +
                        hex(pc));
            break;
        }
        ruprobes::sim_fault where;
        auto next = ruprobes::simulate(d, pc, p.regs.x, mem, &where);
        if (!next.ok()) {
            uprobes_fixup_fault(&p.regs);
            k.fault(p, sig::segv,
                    std::string(where.is_store ? "store" : "load") + " fault at address " +
                        hex(where.addr) + ", pc " + hex(pc));
            break;
        }
        p.regs.pc = *next;
    }
    return ran;
}

} // namespace sim
