#include "selftest/boot_checks.hpp"

#include "boot/command_line.hpp"
#include "lib/console.hpp"
#include "selftest/probe_bench.hpp"
#include "selftest/probe_selftest.hpp"

#include <cstdint>

int run_boot_checks() {
    if (kernel_flag("ruprobes.kernel_fault")) {
        // Proves the kernel-fault path: a load from an address no kernel mapping covers.
        kprintf("init: faulting on purpose (ruprobes.kernel_fault)\n");
        (void)*reinterpret_cast<volatile uint64_t*>(0x3000'0000);
    }
    int status = 0;
    if (kernel_flag("ruprobes.selftest")) {
        status = run_probe_selftests();
    }
    if (kernel_flag("ruprobes.bench")) {
        const int bench = run_probe_bench();
        status = status != 0 ? status : bench;
    }
    return status;
}
