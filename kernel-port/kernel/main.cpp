// Kernel entry point after entry.S: read the device tree, bring up memory, traps, the timer and
// the PLIC, start the probe engine and init, then run the scheduler forever.
#include "arch/riscv64/big_lock.hpp"
#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/timer.hpp"
#include "arch/riscv64/trap.hpp"
#include "boot/command_line.hpp"
#include "boot/device_tree.hpp"
#include "lib/console.hpp"
#include "lib/panic.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"
#include "mm/page_table.hpp"
#include "port/kernel_hooks.hpp"
#include "proc/init.hpp"
#include "proc/lifecycle.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"
#include "programs.hpp"

extern "C" char kernel_end[];

namespace {

// QEMU virt's RAM when the DTB says nothing: 256 MiB at 0x80000000 (stub/launch/qemu_command.cpp
// passes -m 256M).
constexpr uint64_t fallback_memory_base = 0x8000'0000;
constexpr uint64_t fallback_memory_size = 256ull << 20;

boot_info info;

} // namespace

// Device drivers and the host agent start here; a strong definition elsewhere replaces this
// empty one. Runs after memory, traps, the PLIC and the init process are set up, before init
// runs.
extern "C" __attribute__((weak)) void devices_init() {}

extern "C" [[noreturn]] void kmain(unsigned long hartid, unsigned long dtb) {
    big_lock_acquire(); // held whenever a hart runs kernel code (kernel-port/README.md, "SMP")
    kprintf("ruprobes kernel %s (RV64GC, S-mode) booting on hart %lu, dtb at %p\n",
            RUPROBES_VERSION, hartid, reinterpret_cast<void*>(dtb));
    if (!parse_device_tree(dtb, info) || info.memory_size == 0) {
        kprintf("boot: no usable device tree, assuming %lu MiB of RAM\n",
                fallback_memory_size >> 20);
        info.memory_base = fallback_memory_base;
        info.memory_size = fallback_memory_size;
    }
    const uint64_t ram_end = info.memory_base + info.memory_size;
    kprintf("boot: RAM %p..%p, timebase %lu Hz, command line '%s'\n",
            reinterpret_cast<void*>(info.memory_base), reinterpret_cast<void*>(ram_end),
            info.timebase_hz, info.bootargs);
    for (const embedded_program* p = programs_begin(); p != programs_end(); p++) {
        kprintf("  program %s: %zu bytes\n", p->path, p->size());
    }

    frame_allocator_init(reinterpret_cast<uint64_t>(kernel_end), ram_end, info.dtb_begin,
                         info.dtb_end);
    if (!kernel_page_table_init(ram_end)) {
        panic("kmain: out of memory building the kernel page table");
    }
    trap_init();
    activate_page_table(kernel_page_table());
    kprintf("boot: Sv39 on, %zu free frames\n", free_frame_count());

    command_line_init(info.bootargs);
    process_table_init();
    plic_init(layout::plic_base, hartid);
    timer_init(info.timebase_hz);
    csr::set_sie(csr::sie_ssie); // other harts' IPIs
    if (!port_init()) {
        kprintf("boot: the probe engine did not start; running without probes\n");
    }
    process* init = spawn_kernel_thread("init", init_main, nullptr);
    if (init == nullptr) {
        panic("kmain: cannot create init");
    }
    set_init_process(init);
    // The other harts start now and wait for the big kernel lock, which this hart holds until its
    // scheduler runs: devices_init() below sees every hart online (the agent keeps a hit ring per
    // hart) and still runs before any process.
    smp_start_others(hartid);
    // After init exists (so it keeps pid 1), before it runs.
    devices_init();
    scheduler_run();
}
