// The user memory of one simulated process: a few regions (the program's segments, the stack,
// the xol page), each a host buffer with the permissions its page table entries would have.
// Every access names the permission it needs, so that the engine hooks get exactly the checks a
// kernel with page tables makes (a user store to text fails; a text poke needs executable memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sim {

// Permission bits of a region (the R/W/X bits of a user page).
namespace perm {
constexpr uint8_t read = 1, write = 2, exec = 4;
}

class address_space {
public:
    static constexpr uint64_t page_size = 4096;

    // Maps [base, base + size) zero-filled with `perms`; both page-aligned, not overlapping an
    // existing region. False otherwise.
    bool map(uint64_t base, uint64_t size, uint8_t perms);

    // Copies `len` bytes at `addr` into `dst` when every byte lies in regions that have all the
    // bits of `need`; false otherwise (dst may be partly written).
    bool read(uint64_t addr, void* dst, size_t len, uint8_t need) const;

    // Copies `len` bytes from `src` to `addr` when every byte lies in regions that have all the
    // bits of `need`; all or nothing (false: nothing written).
    bool write(uint64_t addr, const void* src, size_t len, uint8_t need);

    // Drops every region.
    void clear() { regions_.clear(); }

private:
    struct region {
        uint64_t base = 0;
        uint8_t perms = 0;
        std::vector<uint8_t> bytes;
        uint64_t end() const { return base + bytes.size(); }
    };
    const region* find(uint64_t addr) const;
    // True when [addr, addr + len) is covered by regions with `need`.
    bool covered(uint64_t addr, size_t len, uint8_t need) const;

    std::vector<region> regions_;
};

} // namespace sim
