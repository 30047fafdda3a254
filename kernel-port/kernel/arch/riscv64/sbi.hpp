// Calls into the SBI firmware (OpenSBI): the only way the S-mode kernel reaches M-mode services.
// RISC-V Supervisor Binary Interface specification v1.0, chapters 3 (binary encoding), 6 (TIME),
// 7 (IPI), 9 (HSM), 10 (SRST). Not RFENCE (8): the kernel runs remote fences itself
// (proc/smp.cpp says why).
#pragma once

#include <stdint.h>

namespace sbi {

struct result {
    long error;
    long value;
};

// ecall into the SBI with extension `ext`, function `fid` and up to three arguments.
result call(long ext, long fid, long a0 = 0, long a1 = 0, long a2 = 0);
result call4(long ext, long fid, long a0, long a1, long a2, long a3);

// Programs the next timer interrupt at absolute time `stime` (in `time` CSR ticks) and clears the
// pending one (SBI v1.0 §6, TIME extension).
void set_timer(uint64_t stime);

// Hart state management (§9): hart_get_status (error SBI_ERR_INVALID_PARAM for no such hart;
// value hart_stopped for a hart waiting to be started) and hart_start, which starts `hartid` in
// S-mode at physical `start` with a0 = hartid, a1 = `opaque`, satp = 0, interrupts off.
constexpr long hart_stopped = 1;
result hart_get_status(uint64_t hartid);
result hart_start(uint64_t hartid, uint64_t start, uint64_t opaque);

// A supervisor software interrupt on every hart of `hart_mask` (bit i = hart mask_base + i) (§7).
void send_ipi(uint64_t hart_mask, uint64_t mask_base);

// Powers the machine off. Under QEMU `virt` a non-zero `status` leaves QEMU with that exit code
// (through the sifive "test" finisher device); everywhere else it is a plain SBI shutdown.
[[noreturn]] void shutdown(int status);

} // namespace sbi
