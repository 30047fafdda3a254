#include "mm/page_table.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "lib/string.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"

#if defined(__riscv)
void remote_sfence_vma_on(uint32_t hart_index); // proc/smp.cpp
#else
inline void remote_sfence_vma_on(uint32_t) {}
#endif

namespace {

constexpr uint64_t megapage = 2ull << 20;
constexpr int user_root_index = static_cast<int>(layout::user_begin >> 30); // 1 GiB per root PTE
static_assert((layout::user_end - layout::user_begin) == (1ull << 30), "one root entry");

page_table_root kernel_root = nullptr;

uint64_t vpn(uint64_t va, int level) {
    return (va >> (12 + 9 * level)) & 0x1ff;
}

bool is_leaf(uint64_t e) {
    return (e & (pte::r | pte::w | pte::x)) != 0;
}

// The PTE slot for `va` at `level` (0: 4 KiB, 1: 2 MiB), creating intermediate tables when
// `alloc`. nullptr when a table is missing (and !alloc), out of frames, or a larger leaf is in
// the way.
uint64_t* walk(page_table_root root, uint64_t va, int level, bool alloc) {
    uint64_t* table = root;
    for (int l = 2; l > level; l--) {
        uint64_t& e = table[vpn(va, l)];
        if ((e & pte::v) == 0) {
            if (!alloc) {
                return nullptr;
            }
            void* frame = alloc_frame();
            if (frame == nullptr) {
                return nullptr;
            }
            e = pte::make(reinterpret_cast<uint64_t>(frame), pte::v);
        } else if (is_leaf(e)) {
            return nullptr;
        }
        table = reinterpret_cast<uint64_t*>(pte::to_pa(e));
    }
    return &table[vpn(va, level)];
}

// After a change to a user entry of `root`: flushes this hart's TLB when `root` is its table, and
// every other hart's that has it in satp (smp_remote_sfence_vma). With the big kernel lock held,
// another hart has `root` in satp only while it runs root's process in U-mode (an idle hart
// switches to the kernel's table first), or keeps it from before, running a kernel thread.
void flush_tlbs_using(page_table_root root) {
    hart_local* me = this_hart();
    if (root == me->active_root) {
        csr::sfence_vma();
    }
    for (uint32_t i = 0; i < harts_online; i++) {
        if (i != me->index && harts[i].active_root == root) {
            remote_sfence_vma_on(i);
        }
    }
}

} // namespace

bool map_identity(page_table_root root, uint64_t begin, uint64_t end, uint64_t flags) {
    const uint64_t leaf = flags | pte::v | pte::a | pte::d;
    for (uint64_t a = begin; a < end;) {
        const bool mega = (a % megapage) == 0 && end - a >= megapage;
        uint64_t* slot = walk(root, a, mega ? 1 : 0, true);
        if (slot == nullptr) {
            return false;
        }
        *slot = pte::make(a, leaf);
        a += mega ? megapage : layout::page_size;
    }
    return true;
}

namespace {

// Frees the tables below `table` at `level`, and the leaf frames when `free_leaves`.
void free_tree(uint64_t* table, int level, bool free_leaves) {
    for (int i = 0; i < 512; i++) {
        const uint64_t e = table[i];
        if ((e & pte::v) == 0) {
            continue;
        }
        if (is_leaf(e)) {
            if (free_leaves) {
                free_frame(reinterpret_cast<void*>(pte::to_pa(e)));
            }
        } else if (level > 0) {
            free_tree(reinterpret_cast<uint64_t*>(pte::to_pa(e)), level - 1, free_leaves);
        }
    }
    free_frame(table);
}

} // namespace

page_table_root kernel_page_table() {
    return kernel_root;
}

void set_kernel_page_table(page_table_root root) {
    kernel_root = root;
}

uint64_t satp_for(page_table_root root) {
    constexpr uint64_t mode_sv39 = 8ull << 60;
    return mode_sv39 | (reinterpret_cast<uint64_t>(root) >> 12);
}

void activate_page_table(page_table_root root) {
    hart_local* h = this_hart();
    if (root == h->active_root) {
        return;
    }
    csr::write_satp(satp_for(root));
    csr::sfence_vma();
    h->active_root = root;
}

page_table_root create_user_page_table() {
    auto root = static_cast<page_table_root>(alloc_frame());
    if (root == nullptr) {
        return nullptr;
    }
    for (int i = 0; i < 512; i++) {
        if (i != user_root_index) {
            root[i] = kernel_root[i];
        }
    }
    return root;
}

void destroy_user_page_table(page_table_root root) {
    if (root == nullptr) {
        return;
    }
    // No other hart has it in satp (see flush_tlbs_using: its process is gone, and a hart that
    // releases the big lock runs a live process or the kernel's table).
    if (root == this_hart()->active_root) {
        activate_page_table(kernel_root);
    }
    const uint64_t e = root[user_root_index];
    if ((e & pte::v) != 0) {
        free_tree(reinterpret_cast<uint64_t*>(pte::to_pa(e)), 1, true);
    }
    free_frame(root);
}

bool copy_user_pages(page_table_root from, page_table_root to) {
    const uint64_t top = from[user_root_index];
    if ((top & pte::v) == 0) {
        return true;
    }
    auto* l1 = reinterpret_cast<uint64_t*>(pte::to_pa(top));
    for (uint64_t i = 0; i < 512; i++) {
        if ((l1[i] & pte::v) == 0) {
            continue;
        }
        auto* l0 = reinterpret_cast<uint64_t*>(pte::to_pa(l1[i]));
        for (uint64_t j = 0; j < 512; j++) {
            const uint64_t e = l0[j];
            if ((e & pte::v) == 0) {
                continue;
            }
            void* frame = alloc_frame();
            if (frame == nullptr) {
                return false;
            }
            kmemcpy(frame, reinterpret_cast<void*>(pte::to_pa(e)), layout::page_size);
            const uint64_t va = layout::user_begin + (i << 21) + (j << 12);
            if (!map_page(to, va, reinterpret_cast<uint64_t>(frame), e & pte::perm_mask)) {
                free_frame(frame);
                return false;
            }
        }
    }
    return true;
}

bool map_page(page_table_root root, uint64_t va, uint64_t pa, uint64_t flags) {
    uint64_t* slot = walk(root, va, 0, true);
    if (slot == nullptr || (*slot & pte::v) != 0) {
        return false;
    }
    *slot = pte::make(pa, (flags & pte::perm_mask) | pte::v | pte::a | pte::d);
    flush_tlbs_using(root);
    return true;
}

uint64_t* find_pte(page_table_root root, uint64_t va) {
    uint64_t* slot = walk(root, va, 0, false);
    if (slot == nullptr || (*slot & pte::v) == 0) {
        return nullptr;
    }
    return slot;
}

uint64_t user_va_to_pa(page_table_root root, uint64_t va, uint64_t need) {
    if (!layout::in_user_window(va, 1)) {
        return 0;
    }
    const uint64_t* slot = find_pte(root, va);
    need |= pte::u;
    if (slot == nullptr || (*slot & need) != need) {
        return 0;
    }
    return pte::to_pa(*slot) | (va & (layout::page_size - 1));
}

bool replace_user_frame(page_table_root root, uint64_t va, uint64_t pa) {
    uint64_t* slot = find_pte(root, va);
    if (slot == nullptr) {
        return false;
    }
    void* old = reinterpret_cast<void*>(pte::to_pa(*slot));
    const uint64_t flags = *slot & ((1u << 10) - 1);
    __atomic_store_n(slot, pte::make(pa, flags), __ATOMIC_RELEASE);
    flush_tlbs_using(root); // returns once every hart has flushed: nothing fetches `old` now
    free_frame(old);
    return true;
}

void unmap_user_page(page_table_root root, uint64_t va) {
    if (!layout::in_user_window(va, 1)) {
        return;
    }
    uint64_t* slot = find_pte(root, va);
    if (slot != nullptr) {
        void* frame = reinterpret_cast<void*>(pte::to_pa(*slot));
        *slot = 0;
        flush_tlbs_using(root); // before the frame can be reused
        free_frame(frame);
    }
}
