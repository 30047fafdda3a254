// The kernel's own page table: its image (text R+X, rodata R, the rest R+W), the rest of RAM and
// the MMIO of QEMU virt, all identity-mapped (layout.hpp). Kernel only: it needs the linker's
// section symbols.
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"
#include "mm/page_table.hpp"

extern "C" char kernel_begin[], kernel_text_end[], kernel_rodata_end[];

bool kernel_page_table_init(uint64_t ram_end) {
    auto kernel_root = static_cast<page_table_root>(alloc_frame());
    if (kernel_root == nullptr) {
        return false;
    }
    set_kernel_page_table(kernel_root);
    const auto text = reinterpret_cast<uint64_t>(kernel_begin);
    const auto text_end = reinterpret_cast<uint64_t>(kernel_text_end);
    const auto rodata_end = reinterpret_cast<uint64_t>(kernel_rodata_end);
    return map_identity(kernel_root, text, text_end, pte::r | pte::x) &&
           map_identity(kernel_root, text_end, rodata_end, pte::r) &&
           map_identity(kernel_root, rodata_end, ram_end, pte::r | pte::w) &&
           map_identity(kernel_root, layout::test_finisher, layout::test_finisher + 0x1000,
                        pte::r | pte::w) &&
           map_identity(kernel_root, layout::goldfish_rtc, layout::goldfish_rtc + 0x1000,
                        pte::r | pte::w) &&
           map_identity(kernel_root, layout::plic_base, layout::plic_base + layout::plic_size,
                        pte::r | pte::w) &&
           map_identity(kernel_root, layout::uart_base, layout::virtio_mmio_end, pte::r | pte::w);
}
