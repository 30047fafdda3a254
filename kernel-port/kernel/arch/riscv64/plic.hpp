// External interrupts through the PLIC of QEMU virt (RISC-V PLIC specification v1.0.0), for the
// S-mode context of one hart, the boot hart: with several harts, external interrupts reach only
// that one (the others take timer and software interrupts). Drivers register one handler per
// interrupt source:
//   QEMU virt sources: UART0 = 10, virtio-mmio slot n (0x10001000 + n * 0x1000) = 1 + n.
#pragma once

#include <stdint.h>

using irq_handler = void (*)(uint32_t irq, void* context);

constexpr uint32_t plic_max_irq = 127;

// Sets the S-mode context of hart `hartid` (2 * hartid + 1 on QEMU virt) to threshold 0 and
// enables external interrupts in sie, for the PLIC at `base` (its MMIO registers, mapped). Call
// once, on that hart.
void plic_init(uint64_t base, uint64_t hartid);

// Installs `handler(irq, context)` for source `irq` (1..plic_max_irq), gives it priority 1 and
// enables it. Returns false for a bad irq or when one is already registered. The handler runs in
// trap context with interrupts off; it must not block.
bool irq_register(uint32_t irq, irq_handler handler, void* context);

// Disables `irq` and forgets its handler.
void irq_unregister(uint32_t irq);

// Called by the trap handler on a supervisor external interrupt: claims every pending source,
// runs its handler (unknown sources are counted and ignored) and completes it.
void plic_dispatch();
