// Sv39 page tables (RISC-V Privileged v1.12 §4.4): three levels of 512 PTEs, 4 KiB pages and
// 2 MiB megapages. Every table maps the kernel identically (VA == PA, no U bit); each process
// owns only the user window (layout.hpp).
//
//   PTE: | 63..54 reserved | 53..10 PPN | 9..8 RSW | D | A | G | U | X | W | R | V |
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace pte {
constexpr uint64_t v = 1 << 0;
constexpr uint64_t r = 1 << 1;
constexpr uint64_t w = 1 << 2;
constexpr uint64_t x = 1 << 3;
constexpr uint64_t u = 1 << 4;
constexpr uint64_t g = 1 << 5;
constexpr uint64_t a = 1 << 6;
constexpr uint64_t d = 1 << 7;
constexpr uint64_t perm_mask = r | w | x | u;

inline uint64_t to_pa(uint64_t entry) {
    return (entry >> 10) << 12;
}
inline uint64_t make(uint64_t pa, uint64_t flags) {
    return ((pa >> 12) << 10) | flags;
}
} // namespace pte

using page_table_root = uint64_t*;

// Builds the kernel's table (the image and RAM up to `ram_end`, the MMIO of layout.hpp, identity;
// mm/kernel_map.cpp) and returns false when frames run out. Call once, after
// frame_allocator_init.
bool kernel_page_table_init(uint64_t ram_end);
// The kernel's table, whose entries outside the user window every process table shares.
page_table_root kernel_page_table();
void set_kernel_page_table(page_table_root root);

// Identity-maps [begin, end) with `flags` (pte::r/w/x), with 2 MiB megapages where alignment
// allows and 4 KiB pages elsewhere. False when out of frames or a leaf is in the way.
bool map_identity(page_table_root root, uint64_t begin, uint64_t end, uint64_t flags);

// The satp value for `root` (Sv39, ASID 0; §4.1.11).
uint64_t satp_for(page_table_root root);
// Switches the hart to `root` and flushes the TLB, unless `root` is already the hart's table.
// The kernel is mapped identically in every table, so kernel code runs on whichever is active:
// the scheduler switches only to run a user process (each switch is a full TLB flush, which
// under QEMU also drops its translated-code jump cache).
void activate_page_table(page_table_root root);

// A new process table: the kernel mappings shared, the user window empty. nullptr when out of
// frames.
page_table_root create_user_page_table();
// Frees every user page, every user-window table and the root. When `root` is the hart's active
// table the hart switches to the kernel's first.
void destroy_user_page_table(page_table_root root);
// Copies every user page of `from` into fresh frames mapped the same way in `to` (fork).
// False when out of frames (`to` then holds a partial copy the caller destroys).
bool copy_user_pages(page_table_root from, page_table_root to);

// Maps the 4 KiB page at `va` to `pa` with `flags` (pte::r/w/x/u; V, A and D are added).
// False when out of frames or when `va` is already mapped. Flushes the TLB when `root` is active.
bool map_page(page_table_root root, uint64_t va, uint64_t pa, uint64_t flags);

// The leaf PTE for `va` (4 KiB pages only), or nullptr when unmapped.
uint64_t* find_pte(page_table_root root, uint64_t va);

// Physical address of the user byte at `va` when its page is mapped with at least `need`
// (pte::r, pte::w, pte::x, plus pte::u always), or 0.
uint64_t user_va_to_pa(page_table_root root, uint64_t va, uint64_t need);

// Maps the user page at `va` (4 KiB aligned, mapped) to the frame `pa` instead, same permissions,
// with one PTE store; every hart that may hold the old translation flushes it (remote sfence.vma)
// before the old frame is freed. Returns false when `va` is not mapped.
bool replace_user_frame(page_table_root root, uint64_t va, uint64_t pa);

// Unmaps the user page at `va` and frees its frame (flushing the TLB when `root` is active). No
// effect when unmapped.
void unmap_user_page(page_table_root root, uint64_t va);
