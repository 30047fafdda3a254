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

// IPIs the harts of `indexes` (bit i: hart index i), as smp_kick does one.
void smp_kick_harts(uint64_t indexes);

// A spinlock for a lock that harts take without the big kernel lock (the agent's, on the
// engine's lock-free hit path): a waiter spins a little, then sleeps in wfi until the release
// sends it an IPI, and answers remote fence requests meanwhile, as big_lock_wait does. Under QEMU
// -icount the harts run in turns, and a hart that only spun could keep the holder from running.
struct sleeping_spinlock {
    uint32_t holder = 0;   // hart index + 1; 0: free
    uint32_t sleepers = 0; // bit i: hart index i sleeps until the release
};
void sleeping_lock_acquire(sleeping_spinlock& lock);
void sleeping_lock_release(sleeping_spinlock& lock);

// Runs fence.i / sfence.vma on every other hart / on hart `index` when there are several, and
// returns once they have: IPIs answered by the harts while they wait for the big lock (the
// caller holds it), no SBI RFENCE. Callers add the local fence.
void smp_remote_fence_i();
void smp_remote_sfence_vma(uint32_t index);

// init, at shutdown: one line per hart with its ticks and user time slices (when several).
void smp_report();
