// The target description gdb reads with qXfer:features:read:target.xml (GDB manual, appendix G
// "Target Descriptions", G.5.8 "RISC-V Features"): architecture riscv:rv64 and the
// org.gnu.gdb.riscv.cpu feature with x0..x31 (ABI names) and pc, numbered 0..32 as the g packet
// sends them.
#pragma once

#include <string_view>

namespace ruprobes::rsp {

// The annex `target.xml`.
std::string_view riscv64_target_xml();

} // namespace ruprobes::rsp
