// What init runs before the command line's programs when the kernel command line asks for it:
// ruprobes.kernel_fault (prove the kernel-fault path), ruprobes.selftest (the probe test table)
// and ruprobes.bench (the probe-hit benchmark). The one entry init knows of.
#pragma once

// Runs the checks the kernel flags ask for, in that order. Returns 0 when every one that ran
// passed (or none ran), else the first non-zero status. ruprobes.kernel_fault does not return.
int run_boot_checks();
