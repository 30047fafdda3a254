#include "selftest/probe_selftest.hpp"

#include "lib/console.hpp"

int run_probe_selftests() {
    kprintf("selftest: the probe engine is not linked into this kernel yet\n");
    kprintf("selftest: 0 passed, 1 failed\n");
    return 1;
}
