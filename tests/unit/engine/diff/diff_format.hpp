// The differential test's file formats and fixed memory layout, shared by the host test
// (diff_test.cpp, which generates cases and checks results) and the riscv64 harness
// (harness.cpp, which executes each case for real under qemu-riscv64).
//
//   cases file:   diff_header, then `count` case_in records
//   results file: diff_header, then `count` case_out records (same order)
//
// Both programs are little-endian LP64, so the records are written as raw structs.
#pragma once

#include <cstdint>

namespace ruprobes::diff {

// The harness maps these at fixed addresses so that the host can predict every address:
// - code: code_size bytes filled with c.ebreak (0x9002) landing pads; the case instruction sits
//   at insn_addr, so every jump or branch target within +-1 MiB lands on a pad and traps;
// - data: one page; the window_size bytes at window_addr are the memory every load/store case
//   targets, initialised from the case and reported back;
// - fault: a PROT_NONE reservation; accesses there fault with that address;
// - signal stack: where the harness's signal handler runs (see below).
inline constexpr uint64_t code_base = 0x20000000;
inline constexpr uint64_t code_size = 0x400000;
inline constexpr uint64_t insn_addr = code_base + code_size / 2;
inline constexpr uint64_t data_page = 0x10000000;
inline constexpr uint64_t window_addr = data_page + 0x100;
inline constexpr unsigned window_size = 64;
inline constexpr uint64_t fault_base = 0x30000000;
inline constexpr uint64_t fault_size = 0x10000;
// The harness's signal stack. While a case runs, sp is the case's; were it inside this stack, the
// kernel would take the signal as nested and push the frame below sp, over the harness's data,
// so the generator keeps the case's sp at least signal_stack_guard away from it.
inline constexpr uint64_t signal_stack_addr = 0x2b5e6a0000; // no computed value lands here
inline constexpr uint64_t signal_stack_size = 0x10000;
inline constexpr uint64_t signal_stack_guard = 0x100000; // and one page above is mapped too

inline constexpr uint32_t magic = 0x46464944; // "DIFF"

// What the host expects the real execution to show.
enum case_kind : uint32_t {
    kind_simulate = 0,    // compare registers, memory window, next pc / fault with the simulator
    kind_out_of_line = 1, // valid, not simulated: must execute without SIGILL
    kind_illegal = 2,     // the decoder says illegal: must raise SIGILL
};

struct diff_header {
    uint32_t magic;
    uint32_t count;
};

struct case_in {
    uint32_t insn; // 16-bit parcel or 32-bit word, little-endian at insn_addr
    uint32_t kind; // case_kind
    uint64_t regs[32];
    uint8_t window[window_size];
};

struct case_out {
    int32_t signal; // SIGTRAP: landed on a pad; SIGSEGV/SIGBUS: fault; SIGILL: illegal
    uint32_t reserved;
    uint64_t pc;         // where the signal was taken
    uint64_t fault_addr; // si_addr for SIGSEGV/SIGBUS
    uint64_t sim_digest; // digest() of the harness's own simulate_case() (simulate cases only)
    uint64_t regs[32];
    uint8_t window[window_size];
};

} // namespace ruprobes::diff
