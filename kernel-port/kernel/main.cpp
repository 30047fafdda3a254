// Kernel entry point after entry.S: print the banner, list the embedded programs, power off.
#include "arch/riscv64/sbi.hpp"
#include "lib/console.hpp"
#include "programs.hpp"

extern "C" [[noreturn]] void kmain(unsigned long hartid, unsigned long dtb) {
    kprintf("ruprobes kernel %s (RV64GC, S-mode) booting on hart %lu, dtb at %p\n",
            RUPROBES_VERSION, hartid, reinterpret_cast<void*>(dtb));
    for (const embedded_program* p = programs_begin(); p != programs_end(); p++) {
        kprintf("  program %s: %zu bytes\n", p->path, p->size());
    }
    kprintf("ruprobes kernel: nothing to run yet, powering off\n");
    sbi::shutdown(0);
}
