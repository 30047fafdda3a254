// init (pid 1): a kernel thread that runs the commands of the kernel command line one after
// another, adopts orphans, and powers the machine off with the commands' status.
#pragma once

// Entry of the init kernel thread (spawn_kernel_thread(init_main)). Powers off when done:
// status 0 when every foreground command exited 0, else the first failing command's status
// (exit code, or 128 + signal when it was killed; 127 when it could not start). With the
// ruprobes.stay flag it keeps reaping orphans instead of powering off.
void init_main(void*);
