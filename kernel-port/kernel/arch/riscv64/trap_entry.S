# Trap entry and exit. One vector (stvec, direct mode) for traps from U-mode and S-mode:
# sscratch holds the current user thread's trap_frame while it runs in U-mode, and 0 while the
# kernel runs, so the first instruction tells the two apart (RISC-V Privileged v1.12 §4.1.4).
# The kernel is mapped identically in every page table, so no satp switch is needed here.
# A trap from U-mode loads the hart's `tp` from the frame and takes the big kernel lock
# (big_lock.hpp) before any other C code runs; user_return releases it. A breakpoint tries the
# engine's lock-free hit path first, and goes back without the lock when that handled it. A trap from S-mode happens only
# where a hart holding the lock turns interrupts on (the idle loop), so it needs neither.

    .equ FRAME_SEPC, 256
    .equ FRAME_SSTATUS, 264
    .equ FRAME_KERNEL_SP, 272
    .equ FRAME_KERNEL_TP, 280
    .equ FRAME_SIZE, 288            # sizeof(trap_frame), a multiple of 16 for the kernel stack

    .macro SAVE_GPRS base
    sd x1, 8(\base)
    sd x3, 24(\base)
    sd x4, 32(\base)
    sd x5, 40(\base)
    sd x6, 48(\base)
    sd x7, 56(\base)
    sd x8, 64(\base)
    sd x9, 72(\base)
    sd x10, 80(\base)
    sd x11, 88(\base)
    sd x12, 96(\base)
    sd x13, 104(\base)
    sd x14, 112(\base)
    sd x15, 120(\base)
    sd x16, 128(\base)
    sd x17, 136(\base)
    sd x18, 144(\base)
    sd x19, 152(\base)
    sd x20, 160(\base)
    sd x21, 168(\base)
    sd x22, 176(\base)
    sd x23, 184(\base)
    sd x24, 192(\base)
    sd x25, 200(\base)
    sd x26, 208(\base)
    sd x27, 216(\base)
    sd x28, 224(\base)
    sd x29, 232(\base)
    sd x30, 240(\base)
    sd x31, 248(\base)
    .endm

    # Restores every register but x2 and \base itself.
    .macro LOAD_GPRS base
    ld x1, 8(\base)
    ld x3, 24(\base)
    ld x4, 32(\base)
    ld x5, 40(\base)
    ld x6, 48(\base)
    ld x7, 56(\base)
    ld x8, 64(\base)
    ld x9, 72(\base)
    ld x11, 88(\base)
    ld x12, 96(\base)
    ld x13, 104(\base)
    ld x14, 112(\base)
    ld x15, 120(\base)
    ld x16, 128(\base)
    ld x17, 136(\base)
    ld x18, 144(\base)
    ld x19, 152(\base)
    ld x20, 160(\base)
    ld x21, 168(\base)
    ld x22, 176(\base)
    ld x23, 184(\base)
    ld x24, 192(\base)
    ld x25, 200(\base)
    ld x26, 208(\base)
    ld x27, 216(\base)
    ld x28, 224(\base)
    ld x29, 232(\base)
    ld x30, 240(\base)
    ld x31, 248(\base)
    .endm

    .section .text
    .balign 4
    .globl trap_vector
trap_vector:
    csrrw sp, sscratch, sp          # sp = user frame, or 0 when the trap came from S-mode
    beqz sp, from_kernel

    # ---- from U-mode: sp = &trap_frame, sscratch = user sp
    SAVE_GPRS sp
    sd zero, 0(sp)
    csrr t0, sscratch
    sd t0, 16(sp)                   # user sp
    csrw sscratch, zero             # from now on the kernel runs
    csrr t0, sepc
    sd t0, FRAME_SEPC(sp)
    csrr t0, sstatus
    sd t0, FRAME_SSTATUS(sp)
    mv a0, sp
    ld sp, FRAME_KERNEL_SP(a0)
    ld tp, FRAME_KERNEL_TP(a0)
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    # A breakpoint first tries the engine's lock-free hit path (port_breakpoint_concurrent):
    # 0 when it handled the trap, and the thread goes back to U-mode without the big kernel lock
    # ever taken; 1 when the trap takes the usual path. s1 is saved already.
    csrr t1, scause
    li t2, 3                        # breakpoint
    bne t1, t2, take_lock
    mv s1, a0
    call port_breakpoint_concurrent
    bnez a0, 3f
    mv a0, s1
    j user_return_unlocked
3:  mv a0, s1
take_lock:
    # The big kernel lock; the value stored is the lock's address (big_lock.hpp).
    lla t0, big_kernel_lock
    amoswap.d.aq t1, t0, (t0)
    bnez t1, lock_busy
    call user_trap                  # returns to U-mode through user_return, never here
2:  j 2b
lock_busy:                          # big_lock_wait(seen) returns holding it; s1 is saved already
    mv s1, a0
    mv a0, t1
    call big_lock_wait
    mv a0, s1
    call user_trap
    j 2b

from_kernel:
    csrrw sp, sscratch, sp          # back to the kernel sp; sscratch = 0 again
    addi sp, sp, -FRAME_SIZE
    SAVE_GPRS sp
    sd zero, 0(sp)
    addi t0, sp, FRAME_SIZE
    sd t0, 16(sp)                   # the interrupted sp
    csrr t0, sepc
    sd t0, FRAME_SEPC(sp)
    csrr t0, sstatus
    sd t0, FRAME_SSTATUS(sp)
    mv a0, sp
    call kernel_trap
    ld t0, FRAME_SEPC(sp)
    csrw sepc, t0
    ld t0, FRAME_SSTATUS(sp)
    csrw sstatus, t0
    ld x10, 80(sp)
    LOAD_GPRS sp
    addi sp, sp, FRAME_SIZE
    sret

# void user_return(trap_frame* frame): enters U-mode with the registers of `frame`. Called with
# interrupts off and the big kernel lock held, which it releases: nothing writes the frame of a
# thread that is not stopped, so the loads after the release are safe. sstatus.SPP must be 0 in
# frame->sstatus.
    .globl user_return
user_return:
    csrw sscratch, a0
    ld t0, FRAME_SEPC(a0)
    csrw sepc, t0
    ld t0, FRAME_SSTATUS(a0)
    csrw sstatus, t0
    lla t0, big_kernel_lock
    amoswap.d.rl t1, zero, (t0)
    bne t1, t0, lock_contended      # big_lock_contended: wake the waiters
lock_released:
    LOAD_GPRS a0
    ld x2, 16(a0)
    ld x10, 80(a0)
    sret
# user_return for a thread whose trap never took the big kernel lock (a lock-free breakpoint
# hit): the same, without the release.
user_return_unlocked:
    csrw sscratch, a0
    ld t0, FRAME_SEPC(a0)
    csrw sepc, t0
    ld t0, FRAME_SSTATUS(a0)
    csrw sstatus, t0
    j lock_released
lock_contended:                     # the thread's kernel stack is still its own (it runs here)
    mv s1, a0
    call big_lock_wake_sleepers
    mv a0, s1
    j lock_released
