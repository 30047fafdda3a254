# loop_padding: 10240 32-bit nops and a ret: the benchmark arms thousands of probes on them, either
# never run (`loop N`: hits at step() only) or run round-robin (`loop N K`: the last K of them).
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
