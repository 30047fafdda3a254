#include "address_space.hpp"

#include <cstring>

namespace sim {

bool address_space::map(uint64_t base, uint64_t size, uint8_t perms) {
    if (size == 0 || base % page_size != 0 || size % page_size != 0 || base + size < base) {
        return false;
    }
    for (const region& r : regions_) {
        if (base < r.end() && r.base < base + size) {
            return false;
        }
    }
    region r;
    r.base = base;
    r.perms = perms;
    r.bytes.assign(size, 0);
    regions_.push_back(std::move(r));
    return true;
}

const address_space::region* address_space::find(uint64_t addr) const {
    for (const region& r : regions_) {
        if (addr >= r.base && addr < r.end()) {
            return &r;
        }
    }
    return nullptr;
}

bool address_space::covered(uint64_t addr, size_t len, uint8_t need) const {
    if (addr + len < addr) {
        return false;
    }
    while (len > 0) {
        const region* r = find(addr);
        if (r == nullptr || (r->perms & need) != need) {
            return false;
        }
        const uint64_t n = r->end() - addr < len ? r->end() - addr : len;
        addr += n;
        len -= n;
    }
    return true;
}

bool address_space::read(uint64_t addr, void* dst, size_t len, uint8_t need) const {
    if (!covered(addr, len, need)) {
        return false;
    }
    auto* out = static_cast<uint8_t*>(dst);
    while (len > 0) {
        const region* r = find(addr);
        const uint64_t n = r->end() - addr < len ? r->end() - addr : len;
        std::memcpy(out, r->bytes.data() + (addr - r->base), n);
        out += n;
        addr += n;
        len -= n;
    }
    return true;
}

bool address_space::write(uint64_t addr, const void* src, size_t len, uint8_t need) {
    if (!covered(addr, len, need)) {
        return false;
    }
    const auto* in = static_cast<const uint8_t*>(src);
    while (len > 0) {
        auto* r = const_cast<region*>(find(addr));
        const uint64_t n = r->end() - addr < len ? r->end() - addr : len;
        std::memcpy(r->bytes.data() + (addr - r->base), in, n);
        in += n;
        addr += n;
        len -= n;
    }
    return true;
}

} // namespace sim
