// The target description gdb reads with qXfer:features:read:target.xml (GDB manual, appendix G
// "Target Descriptions", G.5.8 "RISC-V Features"): architecture riscv:rv64 and the
// org.gnu.gdb.riscv.cpu feature with x0..x31 (ABI names) and pc, numbered 0..32 as the g packet
// sends them; org.gnu.gdb.riscv.fpu (f0..f31 = 33..64, fflags/frm/fcsr = 66..68), read and
// written with p/P only.
#pragma once

#include <string_view>

namespace ruprobes::rsp {

// The annex `target.xml`.
std::string_view riscv64_target_xml();

// Size in bytes of register `regno` of that description; 0 for a number it does not have.
unsigned riscv64_register_size(unsigned regno);

} // namespace ruprobes::rsp
