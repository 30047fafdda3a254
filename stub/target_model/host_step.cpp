#include "target_model/host_step.hpp"

#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

namespace ruprobes::target {

namespace {

constexpr unsigned ra = 1;
constexpr unsigned sp = 2;

// Refuses every access: an instruction that touches memory is left to the kernel.
class no_memory final : public ruprobes::memory_port {};

bool qualifies(const decoded_insn& insn) {
    if (insn.cls != insn_class::simulate)
        return false;
    switch (insn.op) {
    case opcode::jalr:  // may jump into the return-probe trampoline
    case opcode::fence: // ordering is the kernel's business
        return false;
    default:
        break;
    }
    // Unused register fields are 0 or hold other bits: any mention of ra or sp is refused.
    if (insn.rs1 == ra || insn.rs2 == ra || insn.rd == ra || insn.rd == sp)
        return false;
    return true;
}

} // namespace

std::optional<registers> host_step(const registers& before, std::span<const uint8_t> text) {
    auto insn = decode(text.data(), text.size());
    if (!insn.ok() || !qualifies(*insn))
        return std::nullopt;
    register_file file;
    for (unsigned i = 1; i < 32; i++)
        file.x[i] = before.x[i];
    no_memory memory;
    auto next = simulate(*insn, before.pc, file, memory);
    if (!next.ok())
        return std::nullopt;
    registers after = before;
    for (unsigned i = 1; i < 32; i++)
        after.x[i] = file.x[i];
    after.x[0] = 0;
    after.pc = *next;
    return after;
}

} // namespace ruprobes::target
