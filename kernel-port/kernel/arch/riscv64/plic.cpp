#include "arch/riscv64/plic.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/trap.hpp"

namespace {

// PLIC spec v1.0.0 §3 memory map. On QEMU virt hart N has two contexts, 2N (M-mode) and 2N + 1
// (S-mode): every source is routed to the S-mode context of the hart that called plic_init.
constexpr uint64_t priority_base = 0x0;
uint64_t enable_base = 0x2000 + 0x80 * 1;
uint64_t context_base = 0x200000 + 0x1000 * 1;

uint64_t plic_base = 0;

volatile uint32_t* plic_reg(uint64_t offset) {
    return reinterpret_cast<volatile uint32_t*>(plic_base + offset);
}

struct slot {
    irq_handler handler;
    void* context;
};
slot handlers[plic_max_irq + 1];
uint64_t spurious = 0;

void set_enabled(uint32_t irq, bool on) {
    volatile uint32_t* word = plic_reg(enable_base + 4 * (irq / 32));
    if (on) {
        *word = *word | (1u << (irq % 32));
    } else {
        *word = *word & ~(1u << (irq % 32));
    }
}

} // namespace

void plic_init(uint64_t base, uint64_t hartid) {
    const uint64_t context = 2 * hartid + 1;
    enable_base = 0x2000 + 0x80 * context;
    context_base = 0x200000 + 0x1000 * context;
    plic_base = base;
    *plic_reg(context_base) = 0; // threshold: every priority > 0 interrupts
    csr::set_sie(csr::sie_seie);
}

bool irq_register(uint32_t irq, irq_handler handler, void* context_arg) {
    if (irq == 0 || irq > plic_max_irq || handler == nullptr || handlers[irq].handler != nullptr) {
        return false;
    }
    handlers[irq] = {handler, context_arg};
    *plic_reg(priority_base + 4 * irq) = 1;
    set_enabled(irq, true);
    return true;
}

void irq_unregister(uint32_t irq) {
    if (irq == 0 || irq > plic_max_irq) {
        return;
    }
    set_enabled(irq, false);
    handlers[irq] = {nullptr, nullptr};
}

void plic_dispatch() {
    for (;;) {
        const uint32_t irq = *plic_reg(context_base + 4); // claim
        if (irq == 0) {
            return;
        }
        if (irq <= plic_max_irq && handlers[irq].handler != nullptr) {
            handlers[irq].handler(irq, handlers[irq].context);
        } else if (spurious++ < 4) {
            kernel_unexpected_interrupt(csr::cause::supervisor_external, irq);
        }
        *plic_reg(context_base + 4) = irq; // complete
    }
}
