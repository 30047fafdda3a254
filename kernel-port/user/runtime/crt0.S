# Process entry. The kernel starts a program with sp at the top of its stack, a0 = argc and
# a1 = argv (an array of pointers into that stack); main's return value becomes the exit status.
    .section .text.start
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    call main
    call exit
1:  j 1b
