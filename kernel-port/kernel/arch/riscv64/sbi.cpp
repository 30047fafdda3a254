#include "arch/riscv64/sbi.hpp"

namespace sbi {

namespace {
constexpr long ext_time = 0x54494D45; // "TIME" (SBI v1.0 §6)
constexpr long ext_srst = 0x53525354; // "SRST", system reset extension (SBI v1.0 §10)
constexpr long ext_ipi = 0x735049;    // "sPI" (§7)
constexpr long ext_hsm = 0x48534D;    // "HSM" (§9): 0 hart_start, 2 hart_get_status
constexpr long srst_shutdown = 0;
constexpr long srst_reason_none = 0;

// QEMU virt's sifive_test device: writing FAIL | code << 16 exits QEMU with `code`.
volatile uint32_t* const qemu_test_finisher = reinterpret_cast<volatile uint32_t*>(0x100000);
constexpr uint32_t finisher_fail = 0x3333;
} // namespace

result call(long ext, long fid, long a0, long a1, long a2) {
    return call4(ext, fid, a0, a1, a2, 0);
}

result call4(long ext, long fid, long a0, long a1, long a2, long a3) {
    register long r0 asm("a0") = a0;
    register long r1 asm("a1") = a1;
    register long r2 asm("a2") = a2;
    register long r3 asm("a3") = a3;
    register long r6 asm("a6") = fid;
    register long r7 asm("a7") = ext;
    asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r6), "r"(r7) : "memory");
    return {r0, r1};
}

result hart_get_status(uint64_t hartid) {
    return call(ext_hsm, 2, static_cast<long>(hartid));
}

result hart_start(uint64_t hartid, uint64_t start, uint64_t opaque) {
    return call(ext_hsm, 0, static_cast<long>(hartid), static_cast<long>(start),
                static_cast<long>(opaque));
}

void send_ipi(uint64_t hart_mask, uint64_t mask_base) {
    call(ext_ipi, 0, static_cast<long>(hart_mask), static_cast<long>(mask_base));
}

void set_timer(uint64_t stime) {
    call(ext_time, 0, static_cast<long>(stime));
}

void shutdown(int status) {
    // SRST's "system failure" reason does not reach QEMU's exit code, so a failing status is
    // written to the finisher directly; success goes through the portable SBI call.
    if (status != 0) {
        *qemu_test_finisher = finisher_fail | (static_cast<uint32_t>(status & 0xffff) << 16);
    }
    call(ext_srst, 0, srst_shutdown, srst_reason_none);
    for (;;) {
        asm volatile("wfi");
    }
}

} // namespace sbi
