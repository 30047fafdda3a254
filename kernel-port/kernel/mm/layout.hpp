// The address map every page table shares (Sv39, RISC-V Privileged v1.12 §4.4).
//
//   0x0000_0000 .. 0x3fff_ffff   kernel: MMIO of QEMU virt (identity, no U bit)
//       0x0010_0000              test finisher (power off with a status)
//       0x0010_1000              Goldfish RTC (the host's wall clock)
//       0x0c00_0000 + 64 MiB     PLIC
//       0x1000_0000              UART 16550
//       0x1000_1000 .. 0x1000_8fff   virtio-mmio slots 0..7
//   0x4000_0000 .. 0x7fff_ffff   the user window: the only root entry that differs per process
//       0x4000_0000              programs are linked here (kernel-port/user/runtime/user.ld)
//       xol_page_after(end)      the engine's out-of-line slots (one page, R+X for the user),
//                                the first page after the image: within a jal's reach of text
//       user_stack_top           the stack grows down from here
//       user_xol_page            where the xol page goes when none is free after the image
//   0x8000_0000 .. RAM end       kernel: RAM (identity: VA == PA), image at 0x8020_0000
#pragma once

#include <stdint.h>

namespace layout {

constexpr uint64_t page_size = 4096;

constexpr uint64_t user_begin = 0x4000'0000;
constexpr uint64_t user_end = 0x8000'0000;
constexpr uint64_t user_stack_pages = 32;
constexpr uint64_t user_stack_top = 0x7fff'0000;
constexpr uint64_t user_stack_bottom = user_stack_top - user_stack_pages * page_size;
constexpr uint64_t user_xol_page = 0x7fff'e000;

constexpr uint64_t test_finisher = 0x0010'0000;
constexpr uint64_t goldfish_rtc = 0x0010'1000;
constexpr uint64_t plic_base = 0x0c00'0000;
constexpr uint64_t plic_size = 0x0400'0000;
constexpr uint64_t uart_base = 0x1000'0000;
constexpr uint64_t virtio_mmio_base = 0x1000'1000;
constexpr uint64_t virtio_mmio_end = 0x1000'9000;

constexpr uint64_t page_round_down(uint64_t a) {
    return a & ~(page_size - 1);
}
constexpr uint64_t page_round_up(uint64_t a) {
    return (a + page_size - 1) & ~(page_size - 1);
}

// The xol page of a process whose image (every PT_LOAD) ends at `image_end`: the page right
// after it, so that an out-of-line slot reaches the program's text with a jal (+-1 MiB: one
// trap per out-of-line hit), or user_xol_page when that page would touch the stack.
constexpr uint64_t xol_page_after(uint64_t image_end) {
    const uint64_t page = page_round_up(image_end);
    return page >= user_begin && page + page_size <= user_stack_bottom ? page : user_xol_page;
}

// True when [va, va + len) lies inside the user window.
constexpr bool in_user_window(uint64_t va, uint64_t len) {
    return va >= user_begin && va <= user_end && len <= user_end - va;
}

} // namespace layout
