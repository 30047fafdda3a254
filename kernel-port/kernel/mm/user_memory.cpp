#include "mm/user_memory.hpp"

#include "arch/riscv64/csr.hpp"
#include "lib/string.hpp"
#include "mm/layout.hpp"

namespace {

enum class direction { to_kernel, to_user };

// True when every page of [va, va + len) is mapped with U and `need`.
bool range_permitted(page_table_root pt, uint64_t va, size_t len, uint64_t need) {
    const uint64_t required = need | pte::u;
    for (uint64_t page = layout::page_round_down(va); page < va + len; page += layout::page_size) {
        const uint64_t* slot = find_pte(pt, page);
        if (slot == nullptr || (*slot & required) != required) {
            return false;
        }
    }
    return true;
}

// Copies [va, va + len) page by page once every page is known to carry `need` (all or nothing).
bool copy(page_table_root pt, uint64_t va, void* kernel_buf, size_t len, uint64_t need,
          direction dir, bool* touched_exec) {
    if (pt == nullptr || !layout::in_user_window(va, len)) {
        return false;
    }
    const uint64_t required = need | pte::u;
    const uint64_t in_page = va & (layout::page_size - 1);
    if (len <= layout::page_size - in_page) {
        // One page (every access of the probe engine's hit path): one walk.
        const uint64_t* slot = find_pte(pt, va);
        if (slot == nullptr || (*slot & required) != required) {
            return false;
        }
        if (touched_exec != nullptr && (*slot & pte::x) != 0) {
            *touched_exec = true;
        }
        auto* phys = reinterpret_cast<uint8_t*>(pte::to_pa(*slot) + in_page);
        if (dir == direction::to_kernel) {
            kmemcpy(kernel_buf, phys, len);
        } else {
            kmemcpy(phys, kernel_buf, len);
        }
        return true;
    }
    if (!range_permitted(pt, va, len, need)) {
        return false;
    }
    auto* k = static_cast<uint8_t*>(kernel_buf);
    while (len > 0) {
        const uint64_t* slot = find_pte(pt, va);
        if (touched_exec != nullptr && (*slot & pte::x) != 0) {
            *touched_exec = true;
        }
        const uint64_t offset = va & (layout::page_size - 1);
        size_t n = layout::page_size - offset;
        n = n < len ? n : len;
        auto* phys = reinterpret_cast<uint8_t*>(pte::to_pa(*slot) + offset);
        if (dir == direction::to_kernel) {
            kmemcpy(k, phys, n);
        } else {
            kmemcpy(phys, k, n);
        }
        k += n;
        va += n;
        len -= n;
    }
    return true;
}

} // namespace

bool copy_from_user(page_table_root pt, void* dst, uint64_t va, size_t len) {
    return copy(pt, va, dst, len, pte::r, direction::to_kernel, nullptr);
}

bool copy_to_user(page_table_root pt, uint64_t va, const void* src, size_t len) {
    return copy(pt, va, const_cast<void*>(src), len, pte::w, direction::to_user, nullptr);
}

long copy_string_from_user(page_table_root pt, char* dst, uint64_t va, size_t size) {
    for (size_t i = 0; i < size; i++) {
        if (!copy_from_user(pt, &dst[i], va + i, 1)) {
            return -1;
        }
        if (dst[i] == '\0') {
            return static_cast<long>(i);
        }
    }
    return -1;
}

bool peek_user(page_table_root pt, void* dst, uint64_t va, size_t len) {
    return copy(pt, va, dst, len, 0, direction::to_kernel, nullptr);
}

bool poke_user(page_table_root pt, uint64_t va, const void* src, size_t len) {
    bool exec = false;
    const bool ok = copy(pt, va, const_cast<void*>(src), len, 0, direction::to_user, &exec);
    if (exec) {
        csr::fence_i();
    }
    return ok;
}
