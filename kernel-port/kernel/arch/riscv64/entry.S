# Kernel entry from OpenSBI: a0 = hart id, a1 = device tree. Sets up the boot stack, clears .bss,
# points tp at harts[0] and calls kmain(hartid, dtb). OpenSBI enters here on one hart, whichever
# won its boot lottery; kmain starts the others (SBI HSM hart_start) at secondary_start.
    .section .text.entry
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    # Only the first hart here boots. OpenSBI v1.1 may send a hart we start with hart_start here,
    # with a1 = the DTB, instead of to secondary_start (it can see the start request before the
    # address): such a hart finds its hart_local by hart id and goes where it was sent.
    lla t0, boot_claimed
    li t1, 1
    amoswap.w.aqrl t1, t1, (t0)
    bnez t1, misdirected_start
    la sp, boot_stack_top
    la t0, bss_begin
    la t1, bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la tp, harts
    call kmain
3:  wfi
    j 3b

misdirected_start:
    li t0, 8                        # max_harts (hart.hpp): hart ids the kernel starts
    bgeu a0, t0, 5f
    lla t0, hart_start_opaque
    slli t1, a0, 3
    add t0, t0, t1
1:  ld a1, 0(t0)                    # written by the boot hart before its hart_start call
    beqz a1, 1b
    j secondary_start
5:  wfi
    j 5b

# A hart started by smp_start_others: a0 = hart id, a1 = its hart_local (hart.hpp), whose first
# field is its stack's top. satp is 0 (bare): the kernel is linked at its physical address.
    .globl secondary_start
secondary_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    mv tp, a1
    ld sp, 0(a1)
    call secondary_main
4:  wfi
    j 4b

    .section .data
    .balign 4
boot_claimed:                       # not .bss: the boot hart clears .bss after claiming the boot
    .word 0

    .section .bss.boot_stack
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
