#include "proc/smp.hpp"

#include "arch/riscv64/big_lock.hpp"
#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/timer.hpp"
#include "arch/riscv64/trap.hpp"
#include "lib/console.hpp"
#include "mm/page_table.hpp"
#include "proc/scheduler.hpp"

extern "C" char secondary_start[];

// Non-zero while a hart holds it (big_lock.hpp).
extern "C" {
constinit uint64_t big_kernel_lock = 0;
constinit uint64_t big_lock_sleepers = 0;
}

namespace {

alignas(16) uint8_t hart_stacks[max_harts][hart_stack_size];

} // namespace

// By hart id: the hart_local a started hart gets (entry.S reads it when the firmware enters a
// started hart at _start instead of secondary_start).
extern "C" {
constinit hart_local* volatile hart_start_opaque[max_harts] = {};
}

namespace {

uint64_t hart_bit(uint32_t index) {
    return uint64_t{1} << harts[index].hartid;
}

} // namespace

extern "C" void big_lock_wake_sleepers() {
    smp_kick_harts(__atomic_load_n(&big_lock_sleepers, __ATOMIC_ACQUIRE));
}

namespace {

// Remote fences without the SBI's RFENCE, whose M-mode handler on the sending hart spins until
// every target has run the fence: under QEMU -icount the harts run in turn from one thread, and
// a hart that spins can be handed the whole instruction budget up to the next timer deadline
// round after round, so a target after it in the order never ran and the sender spun forever.
// Here the lock holder writes what each target must run into that target's word, sends plain
// IPIs and sleeps in wfi until every target has cleared its word. A target runs the fences
// wherever it waits for the big lock (big_lock_wait), which every other hart reaches: one in
// U-mode traps on the IPI, one idle leaves wfi and takes the lock, one waiting already is woken.
constexpr uint32_t fence_i_request = 1;
constexpr uint32_t sfence_vma_request = 2;
constinit uint32_t fence_requests[max_harts] = {}; // by hart index; written by the lock holder
constinit uint32_t fence_requester = 0;            // the hart index to answer with an IPI

// A hart that does not hold the big lock: runs the fences asked of it, then tells the holder.
void run_fence_requests(uint32_t me) {
    const uint32_t asked = __atomic_load_n(&fence_requests[me], __ATOMIC_ACQUIRE);
    if (asked == 0) {
        return;
    }
    if ((asked & fence_i_request) != 0) {
        csr::fence_i();
    }
    if ((asked & sfence_vma_request) != 0) {
        csr::sfence_vma();
    }
    __atomic_store_n(&fence_requests[me], 0, __ATOMIC_RELEASE);
    sbi::send_ipi(hart_bit(__atomic_load_n(&fence_requester, __ATOMIC_ACQUIRE)), 0);
}

// The lock holder: asks every hart of `targets` (bit i: hart index i) for `what` and sleeps until
// all have run it. Only software interrupts wake the wfi (an answer is an IPI); a pending one
// from before is consumed, as the trap that would have served it does nothing but clear it.
void request_fences(uint64_t targets, uint32_t what) {
    const uint32_t me = this_hart()->index;
    targets &= ~(uint64_t{1} << me);
    if (targets == 0) {
        return;
    }
    __atomic_store_n(&fence_requester, me, __ATOMIC_RELEASE);
    uint64_t mask = 0;
    for (uint32_t i = 0; i < harts_online; i++) {
        if ((targets & (uint64_t{1} << i)) != 0) {
            __atomic_fetch_or(&fence_requests[i], what, __ATOMIC_SEQ_CST);
            mask |= hart_bit(i);
        }
    }
    sbi::send_ipi(mask, 0);
    const uint64_t sie = csr::read_sie();
    csr::write_sie(csr::sie_ssie);
    for (;;) {
        // Cleared before looking, so an answer after the look leaves the IPI pending for wfi.
        csr::clear_sip(csr::sie_ssie);
        bool done = true;
        for (uint32_t i = 0; i < harts_online; i++) {
            if ((targets & (uint64_t{1} << i)) != 0 &&
                __atomic_load_n(&fence_requests[i], __ATOMIC_ACQUIRE) != 0) {
                done = false;
            }
        }
        if (done) {
            break;
        }
        asm volatile("wfi");
    }
    csr::write_sie(sie);
}

uint64_t other_harts() {
    const uint64_t all = harts_online >= 64 ? ~uint64_t{0} : (uint64_t{1} << harts_online) - 1;
    return all & ~(uint64_t{1} << this_hart()->index);
}

// A waiter's spin on a lock word: a hundred tries to swap `taken` into a free (0) `word`,
// answering remote fence requests meanwhile (the holder may be waiting for this hart's answer).
// True once it holds the lock.
template <typename Word>
bool spin_to_take(Word& word, Word taken, uint32_t index) {
    for (int i = 0; i < 100; i++) {
        run_fence_requests(index);
        Word expected = 0;
        if (__atomic_load_n(&word, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&word, &expected, taken, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            return true;
        }
        asm volatile(".insn i 0x0f, 0, x0, x0, 0x010"); // pause (Zihintpause)
    }
    return false;
}

// wfi woken by an IPI only: a pending tick would end every wfi.
void wait_for_ipi() {
    const uint64_t sie = csr::read_sie();
    csr::write_sie(csr::sie_ssie);
    asm volatile("wfi");
    csr::write_sie(sie);
}

} // namespace

void sleeping_lock_acquire(sleeping_spinlock& lock) {
    const uint32_t index = this_hart()->index;
    const uint32_t me = uint32_t{1} << index;
    for (;;) {
        if (spin_to_take(lock.holder, index + 1, index)) {
            return;
        }
        // As big_lock_wait: marked first, then the lock looked at, so that a release in between
        // leaves it free or finds the mark and sends the IPI that ends the wfi.
        csr::clear_sip(csr::sie_ssie);
        run_fence_requests(index);
        __atomic_fetch_or(&lock.sleepers, me, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&lock.holder, __ATOMIC_SEQ_CST) != 0) {
            wait_for_ipi();
        }
        __atomic_fetch_and(&lock.sleepers, ~me, __ATOMIC_SEQ_CST);
    }
}

void sleeping_lock_release(sleeping_spinlock& lock) {
    __atomic_store_n(&lock.holder, 0, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); // the store before the look at the sleepers
    smp_kick_harts(__atomic_load_n(&lock.sleepers, __ATOMIC_RELAXED));
}

void smp_kick_harts(uint64_t indexes) {
    uint64_t mask = 0;
    for (uint32_t i = 0; i < harts_online; i++) {
        if ((indexes & (uint64_t{1} << i)) != 0) {
            mask |= hart_bit(i);
        }
    }
    if (mask != 0) {
        sbi::send_ipi(mask, 0);
    }
}

extern "C" void big_lock_wait(uint64_t seen) {
    const uint64_t held = big_lock_held_value();
    // The failed swap wrote `held` over what it found: a contended mark is gone, so the sleepers
    // are woken to set it again.
    if (seen == big_lock_contended) {
        big_lock_wake_sleepers();
    }
    const uint32_t index = this_hart()->index;
    const uint64_t me = uint64_t{1} << index;
    for (;;) {
        if (spin_to_take(big_kernel_lock, held, index)) {
            return;
        }
        // Sleep until a release finds the contended mark and sends this hart an IPI. Marked
        // first, then the lock checked, so a release in between leaves it free (retry) or
        // finds the mark (the IPI is pending before wfi).
        csr::clear_sip(csr::sie_ssie);
        run_fence_requests(index); // one asked after this comes with an IPI: wfi returns
        __atomic_fetch_or(&big_lock_sleepers, me, __ATOMIC_SEQ_CST);
        bool sleep = false;
        uint64_t v = __atomic_load_n(&big_kernel_lock, __ATOMIC_SEQ_CST);
        while (v != 0) {
            if (v == big_lock_contended ||
                __atomic_compare_exchange_n(&big_kernel_lock, &v, big_lock_contended, false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                sleep = true;
                break;
            }
        }
        if (sleep) {
            wait_for_ipi();
        }
        __atomic_fetch_and(&big_lock_sleepers, ~me, __ATOMIC_SEQ_CST);
    }
}

// A started hart: its tp and stack are set (entry.S). Joins the scheduler.
extern "C" [[noreturn]] void secondary_main(unsigned long, hart_local*) {
    trap_init();
    activate_page_table(kernel_page_table());
    big_lock_acquire();
    timer_start_hart();
    csr::set_sie(csr::sie_ssie);
    scheduler_run();
}

void smp_start_others(uint64_t boot_hartid) {
    hart_local& boot = harts[0];
    boot.index = 0;
    boot.hartid = boot_hartid;
    uint32_t n = 1;
    for (uint64_t id = 0; id < max_harts && n < max_harts; id++) {
        if (id == boot_hartid) {
            continue;
        }
        const sbi::result status = sbi::hart_get_status(id);
        if (status.error != 0 || status.value != sbi::hart_stopped) {
            continue; // no such hart (SBI_ERR_INVALID_PARAM), or not ours to start
        }
        hart_local& h = harts[n];
        h.index = n;
        h.hartid = id;
        h.boot_sp = reinterpret_cast<uint64_t>(hart_stacks[n]) + hart_stack_size;
        hart_start_opaque[id] = &h;
        asm volatile("fence rw, rw" ::: "memory");
        const sbi::result r = sbi::hart_start(id, reinterpret_cast<uint64_t>(secondary_start),
                                              reinterpret_cast<uint64_t>(&h));
        if (r.error != 0) {
            kprintf("smp: hart %lu did not start (SBI error %ld)\n", id, r.error);
            hart_start_opaque[id] = nullptr;
            h = hart_local{};
            continue;
        }
        n++;
    }
    // The started harts wait for the lock (asleep in wfi) and read it once they hold it.
    harts_online = n;
    kprintf("smp: %u harts online (boot hart %lu)\n", n, boot_hartid);
}

void smp_kick(uint32_t index) {
    if (index < harts_online && index != this_hart()->index) {
        sbi::send_ipi(hart_bit(index), 0);
    }
}

void smp_remote_fence_i() {
    if (harts_online > 1) {
        request_fences(other_harts(), fence_i_request);
    }
}

void smp_remote_sfence_vma(uint32_t index) {
    if (index < harts_online && index != this_hart()->index) {
        request_fences(uint64_t{1} << index, sfence_vma_request);
    }
}

void remote_sfence_vma_on(uint32_t hart_index) {
    smp_remote_sfence_vma(hart_index);
}

void smp_report() {
    if (harts_online < 2) {
        return;
    }
    for (uint32_t i = 0; i < harts_online; i++) {
        const hart_local& h = harts[i];
        kprintf("smp: hart %u (id %lu): %lu ticks, %lu user time slices, %lu breakpoints "
                "without the big lock, %lu with it\n",
                i, h.hartid, h.timer_interrupts, h.user_slices, h.breakpoints_lock_free,
                h.breakpoints_locked);
    }
}
