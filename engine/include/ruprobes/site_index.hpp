// The hit path's lookup table: (program, link-time address) -> site index, as 8-byte slots
// {hash tag, site} in a dense open-addressing array (linear probing, backward-shift deletion,
// load factor <= 1/2, like open_table). The key itself lives in the site's hot record, which the
// hit reads anyway: a slot is only the 32-bit hash (which also gives its home slot) and the index,
// so that 10,000 armed sites take 256 KiB of table instead of 512 KiB and a lookup touches one
// table line plus the site's own line.
//
// Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4): the key times 2^64/phi, the top bits pick the
// slot, so consecutive instruction addresses land far apart.
#pragma once

#include "ruprobes/base.hpp"
#include "ruprobes/open_table.hpp"

namespace ruprobes {

class site_index {
public:
    static constexpr uint32_t empty = 0xffffffffu;

    struct slot {
        uint32_t tag;  // hash(program, addr); its top bits are the home slot
        uint32_t site; // `empty`: free
    };

    // Number of slots to reserve for `entries` entries (a power of two, load factor <= 1/2).
    static uint32_t slots_for(uint32_t entries) { return next_pow2(entries * 2 + 2); }

    // The 32-bit hash of a key. Cheap on purpose (one multiply): it runs on every hit.
    static uint32_t hash(uint32_t program, uint64_t addr) {
        return static_cast<uint32_t>(((addr ^ (uint64_t{program} << 56)) * 0x9e3779b97f4a7c15ull) >>
                                     32);
    }

    // Takes `slots` (a power of two, >= 2) slots at `memory` and empties them.
    void attach(slot* memory, uint32_t slots) {
        slots_ = memory;
        mask_ = slots - 1;
        shift_ = 32;
        for (uint32_t n = slots; n > 1; n >>= 1)
            shift_--;
        for (uint32_t i = 0; i < slots; i++)
            slots_[i] = empty_slot(i);
        size_ = 0;
    }

    // The site whose key hashes to `tag` and for which `matches(site)` holds, or `empty`. Only
    // after attach(). Adds the number of slots examined beyond the first (the home slot) to
    // *beyond_home: the caller counts the lookup and its first slot, so that a lookup answered
    // at home (the usual case at load factor <= 1/2) writes no counter. An empty slot's tag
    // never names that slot as its home (empty_slot), so a tag equal to the home slot's is a
    // full slot: the hit tests one tag and then the key.
    template <typename Match>
    [[gnu::always_inline]] uint32_t find(uint32_t tag, Match matches, uint64_t* beyond_home) const {
        return find_as(
            tag, matches, [](uint32_t site) { return site; }, beyond_home);
    }

    // find(), the answer given as found(site) (found(empty) when there is none): a caller that
    // wants, say, a pointer gets it from the out-of-line part as well, which then ends in a
    // tail call (no frame for the lookup answered at home).
    template <typename Match, typename Found>
    [[gnu::always_inline]] auto find_as(uint32_t tag, Match matches, Found found,
                                        uint64_t* beyond_home) const {
        const uint32_t i = home(tag);
        const slot& s = slots_[i];
        if (s.tag == tag && matches(s.site))
            return found(s.site);
        if (s.site == empty)
            return found(empty);
        return find_beyond_home(i, tag, matches, found, beyond_home);
    }

    // Adds `site` under `tag` (it must not be present). no_space beyond half full.
    result<void> insert(uint32_t tag, uint32_t site) {
        if (slots_ == nullptr || (size_ + 1) * 2 > mask_ + 1)
            return error::no_space;
        uint32_t i = home(tag);
        while (slots_[i].site != empty)
            i = (i + 1) & mask_;
        slots_[i] = slot{tag, site};
        size_++;
        return {};
    }

    // Removes `site`, inserted under `tag`; returns whether it was there.
    bool erase(uint32_t tag, uint32_t site) {
        if (slots_ == nullptr)
            return false;
        uint32_t hole = home(tag);
        for (;;) {
            if (slots_[hole].site == empty)
                return false;
            if (slots_[hole].site == site)
                break;
            hole = (hole + 1) & mask_;
        }
        // Backward-shift deletion: move later members of the probe run into the hole when their
        // home slot is not strictly between the hole and their position.
        uint32_t i = hole;
        for (;;) {
            i = (i + 1) & mask_;
            if (slots_[i].site == empty)
                break;
            uint32_t h = home(slots_[i].tag);
            bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
            if (!stays) {
                slots_[hole] = slots_[i];
                hole = i;
            }
        }
        slots_[hole] = empty_slot(hole);
        size_--;
        return true;
    }

    uint32_t size() const { return size_; }

private:
    uint32_t home(uint32_t tag) const { return tag >> shift_; }

    // A free slot at index i: its tag's home is the next slot, never i (there are >= 2 slots).
    slot empty_slot(uint32_t i) const { return slot{((i + 1) & mask_) << shift_, empty}; }

    // find() past the home slot `i` (which held another key): linear probing up to a free slot.
    template <typename Match, typename Found>
    [[gnu::noinline]] auto find_beyond_home(uint32_t i, uint32_t tag, Match matches, Found found,
                                            uint64_t* beyond_home) const {
        for (uint64_t n = 1;; n++) {
            i = (i + 1) & mask_;
            const slot& s = slots_[i];
            if (s.site == empty) {
                *beyond_home += n;
                return found(empty);
            }
            if (s.tag == tag && matches(s.site)) {
                *beyond_home += n;
                return found(s.site);
            }
        }
    }

    slot* slots_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t shift_ = 31;
    uint32_t size_ = 0;
};

} // namespace ruprobes
