# Kernel entry from OpenSBI: a0 = hart id, a1 = device tree. Sets up the boot stack, clears .bss
# and calls kmain(hartid, dtb). Only hart 0 boots (QEMU starts the others parked in OpenSBI).
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
2:  call kmain
3:  wfi
    j 3b

    .section .bss.boot_stack
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
