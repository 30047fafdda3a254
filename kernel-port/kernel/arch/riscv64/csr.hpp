// Supervisor CSR access and the bits the kernel touches.
// RISC-V Privileged Architecture v1.12, chapter 4 (Supervisor-Level ISA).
//
// Built for a host (the kernel's unit tests compile mm/, boot/ and proc/elf_loader there), every
// accessor is an inert stub: reads return 0, writes and fences do nothing.
#pragma once

#include <stdint.h>

namespace csr {

#if defined(__riscv)
#define RUPROBES_CSR_ACCESSORS(name)                                                               \
    inline uint64_t read_##name() {                                                                \
        uint64_t v;                                                                                \
        asm volatile("csrr %0, " #name : "=r"(v));                                                 \
        return v;                                                                                  \
    }                                                                                              \
    inline void write_##name(uint64_t v) {                                                         \
        asm volatile("csrw " #name ", %0" : : "r"(v));                                             \
    }                                                                                              \
    inline void set_##name(uint64_t bits) {                                                        \
        asm volatile("csrs " #name ", %0" : : "r"(bits));                                          \
    }                                                                                              \
    inline void clear_##name(uint64_t bits) {                                                      \
        asm volatile("csrc " #name ", %0" : : "r"(bits));                                          \
    }

RUPROBES_CSR_ACCESSORS(sstatus)
RUPROBES_CSR_ACCESSORS(sie)
RUPROBES_CSR_ACCESSORS(sip)
RUPROBES_CSR_ACCESSORS(stvec)
RUPROBES_CSR_ACCESSORS(sscratch)
RUPROBES_CSR_ACCESSORS(sepc)
RUPROBES_CSR_ACCESSORS(scause)
RUPROBES_CSR_ACCESSORS(stval)
RUPROBES_CSR_ACCESSORS(satp)
#undef RUPROBES_CSR_ACCESSORS
#else
#define RUPROBES_CSR_ACCESSORS(name)                                                               \
    inline uint64_t read_##name() {                                                                \
        return 0;                                                                                  \
    }                                                                                              \
    inline void write_##name(uint64_t) {}                                                          \
    inline void set_##name(uint64_t) {}                                                            \
    inline void clear_##name(uint64_t) {}
RUPROBES_CSR_ACCESSORS(sstatus)
RUPROBES_CSR_ACCESSORS(sie)
RUPROBES_CSR_ACCESSORS(sip)
RUPROBES_CSR_ACCESSORS(stvec)
RUPROBES_CSR_ACCESSORS(sscratch)
RUPROBES_CSR_ACCESSORS(sepc)
RUPROBES_CSR_ACCESSORS(scause)
RUPROBES_CSR_ACCESSORS(stval)
RUPROBES_CSR_ACCESSORS(satp)
#undef RUPROBES_CSR_ACCESSORS
#endif

// The `time` CSR (Zicntr): ticks of the platform timer (timebase-frequency from the DTB).
inline uint64_t read_time() {
    uint64_t v = 0;
#if defined(__riscv)
    asm volatile("rdtime %0" : "=r"(v));
#endif
    return v;
}

// sstatus (§4.1.1).
constexpr uint64_t sstatus_sie = 1ull << 1;  // interrupts enabled in S-mode
constexpr uint64_t sstatus_spie = 1ull << 5; // SIE before the trap
constexpr uint64_t sstatus_spp = 1ull << 8;  // previous privilege: 1 = S, 0 = U
constexpr uint64_t sstatus_fs_shift = 13;    // FS: floating-point unit state
constexpr uint64_t sstatus_fs_mask = 3ull << sstatus_fs_shift;
constexpr uint64_t sstatus_fs_initial = 1ull << sstatus_fs_shift;
constexpr uint64_t sstatus_fs_clean = 2ull << sstatus_fs_shift;
constexpr uint64_t sstatus_fs_dirty = 3ull << sstatus_fs_shift;
constexpr uint64_t sstatus_sum = 1ull << 18; // S-mode may access U pages

// sie / sip (§4.1.3).
constexpr uint64_t sie_ssie = 1ull << 1; // software
constexpr uint64_t sie_stie = 1ull << 5; // timer
constexpr uint64_t sie_seie = 1ull << 9; // external

// scause (§4.1.9, table 4.2): the interrupt bit and the codes.
constexpr uint64_t scause_interrupt = 1ull << 63;
namespace cause {
constexpr uint64_t supervisor_software = 1;
constexpr uint64_t supervisor_timer = 5;
constexpr uint64_t supervisor_external = 9;

constexpr uint64_t insn_misaligned = 0;
constexpr uint64_t insn_access_fault = 1;
constexpr uint64_t illegal_insn = 2;
constexpr uint64_t breakpoint = 3;
constexpr uint64_t load_misaligned = 4;
constexpr uint64_t load_access_fault = 5;
constexpr uint64_t store_misaligned = 6;
constexpr uint64_t store_access_fault = 7;
constexpr uint64_t ecall_user = 8;
constexpr uint64_t ecall_supervisor = 9;
constexpr uint64_t insn_page_fault = 12;
constexpr uint64_t load_page_fault = 13;
constexpr uint64_t store_page_fault = 15;
} // namespace cause

// A short name for an exception code ("illegal instruction", ...).
const char* cause_name(uint64_t scause);

// Interrupts on/off in S-mode; `interrupts_off` returns whether they were on.
inline bool interrupts_off() {
    uint64_t old = 0;
#if defined(__riscv)
    asm volatile("csrrci %0, sstatus, 2" : "=r"(old));
#endif
    return (old & sstatus_sie) != 0;
}
inline void interrupts_on() {
    set_sstatus(sstatus_sie);
}
inline void interrupts_restore(bool on) {
    if (on) {
        interrupts_on();
    }
}

// Ordering of instruction fetches after stores to instruction memory (Zifencei).
inline void fence_i() {
#if defined(__riscv)
    asm volatile("fence.i" ::: "memory");
#endif
}

// Flushes every TLB entry of this hart (§4.2.1 SFENCE.VMA with rs1 = rs2 = x0).
inline void sfence_vma() {
#if defined(__riscv)
    asm volatile("sfence.vma zero, zero" ::: "memory");
#endif
}

} // namespace csr
