// Fuzz target: the engine's decoder and simulator on arbitrary instruction bytes, register states
// and memory (and format_insn on what decodes). Neither may crash (ASan/UBSan in the fuzz build),
// and the contracts of insn.hpp and simulate.hpp must hold; a violation traps.
//
// Input layout (missing bytes read as zero):
//   [0..3]    instruction bytes, decoded with min(size, 4) bytes available
//   [4]       flags: bit 0 places the memory window at the instruction's effective address
//   [5..260]  x0..x31, 8 bytes each, little-endian
//   [261..]   initial contents of the 64-byte memory window
#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

constexpr size_t window_size = 64;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

// A 64-byte window of user memory at `base`; every other address faults.
class window_memory final : public ruprobes::memory_port {
public:
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        CHECK(size == 1 || size == 2 || size == 4 || size == 8);
        if (!inside(addr, size))
            return false;
        out = 0;
        std::memcpy(&out, bytes + (addr - base), size);
        return true;
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        CHECK(size == 1 || size == 2 || size == 4 || size == 8);
        if (!inside(addr, size))
            return false;
        std::memcpy(bytes + (addr - base), &value, size);
        return true;
    }
    bool inside(uint64_t addr, unsigned size) const {
        return addr >= base && addr - base <= window_size - size;
    }
    uint64_t base = 0;
    uint8_t bytes[window_size] = {};
};

bool is_control_transfer(ruprobes::opcode op) {
    return (op >= ruprobes::opcode::jal && op <= ruprobes::opcode::bgeu);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    uint8_t buf[261 + window_size] = {};
    std::memcpy(buf, data, size < sizeof buf ? size : sizeof buf);

    auto decoded = ruprobes::decode(data, size < 4 ? size : 4);
    if (!decoded.ok()) {
        CHECK(decoded.err() == ruprobes::error::addr_outside_text);
        CHECK(size < 2 || (size < 4 && (data[0] & 3) == 3));
        return 0;
    }
    const ruprobes::decoded_insn d = *decoded;
    // Length is data, from the low bits; decode() and decode_bits() agree.
    CHECK(d.length == ((d.raw & 3) == 3 ? 4 : 2));
    CHECK(d.length == 4 || d.raw <= 0xffff);
    const ruprobes::decoded_insn again = ruprobes::decode_bits(d.raw);
    CHECK(again.raw == d.raw && again.length == d.length && again.op == d.op &&
          again.cls == d.cls && again.refusal == d.refusal && again.rd == d.rd &&
          again.rs1 == d.rs1 && again.rs2 == d.rs2 && again.rs3 == d.rs3 && again.rm == d.rm &&
          again.imm == d.imm);
    // Class and refusal are consistent.
    CHECK((d.cls == ruprobes::insn_class::refuse) == (d.refusal != ruprobes::error::ok));
    CHECK((d.op == ruprobes::opcode::illegal) == (d.refusal == ruprobes::error::insn_illegal));
    CHECK(ruprobes::opcode_name(d.op) != nullptr);
    char text[48];
    const size_t text_len = ruprobes::format_insn(d, text, sizeof text);
    CHECK(text_len < sizeof text && std::strlen(text) == text_len);
    CHECK(d.rd < 32 && d.rs1 < 32 && d.rs2 < 32 && d.rs3 < 32);

    ruprobes::register_file regs;
    std::memcpy(regs.x, buf + 5, sizeof regs.x);
    window_memory mem;
    std::memcpy(mem.bytes, buf + 261, window_size);
    const uint64_t ea = regs.get(d.rs1) + static_cast<uint64_t>(d.imm);
    mem.base = (buf[4] & 1) ? ea - (ea % 8) : 0x1000;
    const ruprobes::register_file regs_before = regs;
    uint8_t mem_before[window_size];
    std::memcpy(mem_before, mem.bytes, window_size);

    const uint64_t pc = 0x400000 + (static_cast<uint64_t>(buf[4] >> 1) << 1);
    ruprobes::sim_fault fault;
    auto next = ruprobes::simulate(d, pc, regs, mem, &fault);
    if (d.cls != ruprobes::insn_class::simulate) {
        CHECK(next.err() == ruprobes::error::invalid_argument);
        CHECK(std::memcmp(&regs, &regs_before, sizeof regs) == 0);
        return 0;
    }
    if (!next.ok()) {
        // A fault changes no register and no memory, and names the effective address.
        CHECK(next.err() == ruprobes::error::fault_load ||
              next.err() == ruprobes::error::fault_store);
        CHECK(fault.is_store == (next.err() == ruprobes::error::fault_store));
        CHECK(fault.addr == ea);
        CHECK(std::memcmp(&regs, &regs_before, sizeof regs) == 0);
        CHECK(std::memcmp(mem.bytes, mem_before, window_size) == 0);
        return 0;
    }
    if (!is_control_transfer(d.op))
        CHECK(*next == pc + d.length);
    CHECK(*next % 2 == 0); // targets are 2-byte aligned with C (ch. 2.5, 16)
    return 0;
}
