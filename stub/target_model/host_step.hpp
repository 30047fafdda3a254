// One instruction of a stopped thread executed on the host, when its effect on the thread is
// computable exactly from the registers it stopped with: the target model answers such a
// single step without a kernel round trip and writes the new registers into the kernel together
// with the thread's next resume or step.
//
// Only instructions that read and write nothing but integer registers and the pc qualify
// (RV64I/M/C arithmetic, lui, auipc, branches, jal), run by the engine's own simulator
// (ruprobes/simulate.hpp, the code the kernel runs for a simulated probe hit). Everything else is
// the kernel's to step: loads and stores (no memory is read or written here), jalr (it may enter
// the return-probe trampoline), fence, ecall/ebreak, CSR, FP, atomics, and any instruction that
// reads or writes ra or writes sp (the kernel shows ra translated while a return probe is
// pending, and the translation depends on sp).
#pragma once

#include "target_model/target_types.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace ruprobes::target {

// The registers after the instruction `text` (its bytes at before.pc, little-endian: 2 for a
// compressed instruction, 4 otherwise; more are ignored) ran, or nothing when it does not
// qualify (see above) or the bytes are not a whole instruction.
std::optional<registers> host_step(const registers& before, std::span<const uint8_t> text);

} // namespace ruprobes::target
