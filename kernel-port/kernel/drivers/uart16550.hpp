// The NS16550A UART of QEMU `virt` at 0x10000000: the kernel's log console (QEMU's stdio).
// OpenSBI has already programmed baud rate and line control; the kernel only polls and writes.
#pragma once

namespace uart16550 {

// Writes one byte, waiting for room in the transmit holding register.
void put(char c);

} // namespace uart16550
