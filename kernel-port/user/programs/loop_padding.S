# loop_padding: 10240 32-bit nops that never run, so the benchmark can arm thousands of probes
# in /bin/loop (none of them hit) and show that a hit costs the same with 1 or 10,000 armed.
    .section .text
    .globl loop_padding
    .type loop_padding, @function
    .option push
    .option norvc
loop_padding:
    .rept 10240
    nop
    .endr
    ret
    .option pop
    .size loop_padding, . - loop_padding
