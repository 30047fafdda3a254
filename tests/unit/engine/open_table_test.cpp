// open_table (the engine's O(1) lookups): random inserts and erases against std::map, with
// clustered keys so that probe runs wrap around the end of the table and deletions shift them.
#include "ruprobes/engine.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace ruprobes {
namespace {

// A two-part key, like the engine's (program, address) keys.
struct pair_slot {
    struct key_type {
        uint32_t program;
        uint64_t addr;
    };
    uint64_t addr;
    uint32_t program; // nil: empty
    uint32_t site;
    static uint64_t hash(const key_type& k) { return mix64(k.addr ^ (uint64_t{k.program} << 48)); }
    bool empty() const { return program == nil; }
    void clear() { program = nil; }
    bool matches(const key_type& k) const { return program == k.program && addr == k.addr; }
    key_type key() const { return {program, addr}; }
};

TEST(open_table_test, matches_a_reference_map_under_random_inserts_and_erases) {
    constexpr uint32_t capacity = 300;
    const uint32_t slots = open_table<pair_slot>::slots_for(capacity);
    std::vector<pair_slot> memory(slots);
    open_table<pair_slot> table;
    table.attach(memory.data(), slots);
    std::map<uint64_t, uint32_t> reference;
    std::mt19937_64 rng(12345);
    uint64_t examined = 0, lookups = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t addr = 0x10000 + 2 * (rng() % 600); // few distinct keys: many collisions
        auto it = reference.find(addr);
        if (rng() % 2 == 0) {
            if (it == reference.end() && reference.size() < capacity) {
                uint32_t value = static_cast<uint32_t>(rng() % 1000);
                ASSERT_TRUE(table.insert({addr, 3, value}).ok());
                reference[addr] = value;
            }
        } else {
            EXPECT_EQ(table.erase({3, addr}), it != reference.end());
            if (it != reference.end())
                reference.erase(it);
        }
        ASSERT_EQ(table.size(), reference.size());
        if (step % 97 == 0) {
            for (uint64_t a = 0x10000; a < 0x10000 + 2 * 600; a += 2) {
                pair_slot* s = table.find({3, a}, &examined);
                lookups++;
                auto r = reference.find(a);
                ASSERT_EQ(s != nullptr, r != reference.end()) << std::hex << a;
                if (s != nullptr) {
                    EXPECT_EQ(s->site, r->second);
                }
                EXPECT_EQ(table.find({4, a}), nullptr) << "the program is part of the key";
            }
        }
    }
    EXPECT_LT(double(examined) / double(lookups), 3.0);
}

TEST(open_table_test, refuses_to_go_past_half_full) {
    const uint32_t slots = 8;
    std::vector<pid_slot> memory(slots);
    open_table<pid_slot> table;
    table.attach(memory.data(), slots);
    for (uint32_t pid = 1; pid <= 4; pid++)
        EXPECT_TRUE(table.insert({pid, pid}).ok());
    EXPECT_EQ(table.insert({5, 5}).err(), error::no_space);
    EXPECT_TRUE(table.erase(2));
    EXPECT_TRUE(table.insert({5, 5}).ok());
    EXPECT_EQ(table.find(2), nullptr);
    ASSERT_NE(table.find(5), nullptr);
    EXPECT_EQ(table.find(5)->process, 5u);
}

} // namespace
} // namespace ruprobes
