// Calls into the SBI firmware (OpenSBI): the only way the S-mode kernel reaches M-mode services.
// RISC-V Supervisor Binary Interface specification v1.0, chapters 3 (binary encoding), 6 (TIME), 10
// (SRST).
#pragma once

#include <stdint.h>

namespace sbi {

struct result {
    long error;
    long value;
};

// ecall into the SBI with extension `ext`, function `fid` and up to three arguments.
result call(long ext, long fid, long a0 = 0, long a1 = 0, long a2 = 0);

// Programs the next timer interrupt at absolute time `stime` (in `time` CSR ticks) and clears the
// pending one (SBI v1.0 §6, TIME extension).
void set_timer(uint64_t stime);

// Powers the machine off. Under QEMU `virt` a non-zero `status` leaves QEMU with that exit code
// (through the sifive "test" finisher device); everywhere else it is a plain SBI shutdown.
[[noreturn]] void shutdown(int status);

} // namespace sbi
