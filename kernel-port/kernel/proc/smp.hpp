// Several harts: starting the others at boot, waking or interrupting one, and the per-hart report.
// The lock discipline is in kernel-port/README.md, "SMP".
#pragma once

#include <stdint.h>

// Boot hart, once, holding the big kernel lock, after everything harts share is set up: starts
// every other hart the SBI knows (hart ids 0..max_harts-1, HSM hart_get_status, hart_start);
// each waits for the lock, then joins the scheduler. Logs "smp: N harts online".
void smp_start_others(uint64_t boot_hartid);

// Makes hart `index` take a supervisor software interrupt (SBI IPI): a hart in U-mode traps into
// the kernel (and sees a stop or kill), an idle one leaves wfi.
void smp_kick(uint32_t index);

// Runs fence.i / sfence.vma on every other hart / on hart `index` when there are several, and
// returns once they have: IPIs answered by the harts while they wait for the big lock (the
// caller holds it), no SBI RFENCE. Callers add the local fence.
void smp_remote_fence_i();
void smp_remote_sfence_vma(uint32_t index);

// init, at shutdown: one line per hart with its ticks and user time slices (when several).
void smp_report();
