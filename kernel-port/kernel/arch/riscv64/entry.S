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

    .section .bss.boot_stack
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
