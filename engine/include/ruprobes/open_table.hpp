// A fixed-capacity open-addressing hash table (linear probing, backward-shift deletion, no
// tombstones) over memory handed in at init. The engine's O(1) lookups on the hit path go
// through it: the table is sized at init to at least twice the number of entries it may hold,
// so the expected number of slots examined per lookup stays near 1 whatever the load.
//
// Slot is a plain struct with:
//   static uint64_t hash(const key_type&);   bool empty() const;   void clear();
//   bool matches(const key_type&) const;     key_type key() const;
#pragma once

#include "ruprobes/base.hpp"

namespace ruprobes {

// Mixes a 64-bit key into a well-distributed hash (the splitmix64 finaliser).
inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// The smallest power of two >= n (n >= 1).
inline uint32_t next_pow2(uint32_t n) {
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

template <typename Slot>
class open_table {
public:
    using key_type = typename Slot::key_type;

    // Number of slots to reserve for `entries` entries (load factor <= 1/2).
    static uint32_t slots_for(uint32_t entries) { return next_pow2(entries * 2 + 2); }

    // Takes `slots` (a power of two) slots at `memory` and empties them.
    void attach(Slot* memory, uint32_t slots) {
        slots_ = memory;
        mask_ = slots - 1;
        for (uint32_t i = 0; i < slots; i++)
            slots_[i].clear();
        size_ = 0;
    }

    // The slot holding `key`, or nullptr. Adds the number of slots examined to *examined.
    Slot* find(const key_type& key, uint64_t* examined = nullptr) const {
        if (slots_ == nullptr)
            return nullptr;
        uint32_t i = static_cast<uint32_t>(Slot::hash(key)) & mask_;
        uint64_t n = 0;
        for (;;) {
            n++;
            Slot& s = slots_[i];
            if (s.empty() || s.matches(key)) {
                if (examined != nullptr)
                    *examined += n;
                return s.empty() ? nullptr : &s;
            }
            i = (i + 1) & mask_;
        }
    }

    // Inserts `slot` (its key must not be present). Fails with no_space when the table would
    // exceed half full (the capacity promised at init).
    // Always inline: it runs on the trap path (a thread's first out-of-line step).
    [[gnu::always_inline]] result<Slot*> insert(const Slot& slot) {
        if (slots_ == nullptr || (size_ + 1) * 2 > mask_ + 1)
            return error::no_space;
        uint32_t i = static_cast<uint32_t>(Slot::hash(slot.key())) & mask_;
        while (!slots_[i].empty())
            i = (i + 1) & mask_;
        slots_[i] = slot;
        size_++;
        return &slots_[i];
    }

    // Removes `key` if present; returns whether it was.
    bool erase(const key_type& key) {
        Slot* s = find(key);
        if (s == nullptr)
            return false;
        uint32_t hole = static_cast<uint32_t>(s - slots_);
        // Backward-shift deletion: move later members of the probe run into the hole when their
        // home slot is not strictly between the hole and their position.
        uint32_t i = hole;
        for (;;) {
            i = (i + 1) & mask_;
            if (slots_[i].empty())
                break;
            uint32_t home = static_cast<uint32_t>(Slot::hash(slots_[i].key())) & mask_;
            bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (!stays) {
                slots_[hole] = slots_[i];
                hole = i;
            }
        }
        slots_[hole].clear();
        size_--;
        return true;
    }

    uint32_t size() const { return size_; }

private:
    Slot* slots_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
};

} // namespace ruprobes
