# insn_mix(a0 = n): a function made of instruction kinds the probe tests need at known places
# (global labels, found through the symbol table): a compressed one, a 32-bit one, a PC-relative
# auipc + load, a branch, and an atomic (executed out of line by the engine: it does not simulate
# A-extension instructions) that counts calls in memory. Returns a value that depends on all of them, so a wrongly emulated
# instruction changes the program's output. An ecall that never runs follows the function: the
# engine must refuse to probe it.
    .section .text
    .globl insn_mix
    .type insn_mix, @function
insn_mix:
    .globl insn_mix_compressed
insn_mix_compressed:
    c.addi a0, 1                # 16-bit
    .option push
    .option norvc
    .globl insn_mix_32bit
insn_mix_32bit:
    addi a1, a0, 5              # 32-bit, even though a compressed form exists
    .globl insn_mix_auipc
insn_mix_auipc:
    auipc t0, %pcrel_hi(insn_mix_data)
    ld t1, %pcrel_lo(insn_mix_auipc)(t0)
    add a0, a1, t1
    lla t3, insn_mix_calls
    li t4, 1
    .globl insn_mix_atomic
insn_mix_atomic:
    amoadd.d zero, t4, (t3)
    andi t2, a0, 1
    .globl insn_mix_branch
insn_mix_branch:
    beqz t2, 1f
    .option pop
    addi a0, a0, 100
1:  ret
    .size insn_mix, . - insn_mix
    .globl insn_mix_ecall
insn_mix_ecall:
    ecall

    .section .rodata
    .balign 8
insn_mix_data:
    .dword 1000

    .section .data
    .balign 8
    .globl insn_mix_calls
insn_mix_calls:
    .dword 0
