// Frames, Sv39 user tables and the user-memory copies, built for the host.
#include "kernel_memory_fixture.hpp"
#include "mm/user_memory.hpp"

#include <cstring>

namespace {
constexpr uint64_t va0 = layout::user_begin + 0x10000;
constexpr uint64_t rw = pte::r | pte::w;
constexpr uint64_t rx = pte::r | pte::x;
} // namespace

TEST_F(KernelMemory, FramesAreZeroedAlignedAndCounted) {
    auto* a = static_cast<uint8_t*>(alloc_frame());
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<uint64_t>(a) % layout::page_size, 0u);
    std::memset(a, 0xff, layout::page_size);
    free_frame(a);
    auto* b = static_cast<uint8_t*>(alloc_frame());
    ASSERT_EQ(b, a); // last freed, first reused
    for (size_t i = 0; i < layout::page_size; i++) {
        ASSERT_EQ(b[i], 0) << i;
    }
    free_frame(b);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

TEST_F(KernelMemory, ExhaustionReturnsNullAndContiguousPoolIsSeparate) {
    std::vector<void*> taken;
    while (void* f = alloc_frame()) {
        taken.push_back(f);
    }
    EXPECT_EQ(free_frame_count(), 0u);
    EXPECT_EQ(taken.size(), frames_at_start_);
    auto* ring = static_cast<uint8_t*>(alloc_frames_contiguous(4));
    ASSERT_NE(ring, nullptr);
    auto* next = static_cast<uint8_t*>(alloc_frames_contiguous(1));
    EXPECT_EQ(next, ring + 4 * layout::page_size);
    EXPECT_EQ(alloc_frames_contiguous(contiguous_pool_pages), nullptr);
    for (void* f : taken) {
        free_frame(f);
    }
}

TEST_F(KernelMemory, UserTableSharesKernelEntriesAndFreesEverything) {
    page_table_root kernel = kernel_page_table();
    kernel[0] = pte::make(0x1000, pte::v); // a kernel entry that every process must see
    page_table_root pt = create_user_page_table();
    ASSERT_NE(pt, nullptr);
    EXPECT_EQ(pt[0], kernel[0]);
    map_user_page(pt, va0, rx, 0x11);
    map_user_page(pt, va0 + 0x200000, rw, 0x22); // another level-0 table
    EXPECT_FALSE(map_page(pt, va0, 0, rw)) << "already mapped";
    EXPECT_NE(user_va_to_pa(pt, va0 + 5, pte::x), 0u);
    EXPECT_EQ(user_va_to_pa(pt, va0 + 5, pte::w), 0u);
    EXPECT_EQ(user_va_to_pa(pt, layout::user_end, pte::r), 0u);
    kernel[0] = 0;
    destroy_user_page_table(pt);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

TEST_F(KernelMemory, CopiesHonourUserPermissionsAllOrNothing) {
    page_table_root pt = create_user_page_table();
    map_user_page(pt, va0, rw);
    uint8_t* text = map_user_page(pt, va0 + layout::page_size, rx, 0x90);

    const char msg[] = "hello";
    ASSERT_TRUE(copy_to_user(pt, va0 + 10, msg, sizeof(msg)));
    char back[sizeof(msg)] = {};
    ASSERT_TRUE(copy_from_user(pt, back, va0 + 10, sizeof(msg)));
    EXPECT_STREQ(back, "hello");

    // A store that runs from the writable page into read-only text fails and writes nothing.
    uint8_t ones[16];
    std::memset(ones, 1, sizeof(ones));
    const uint64_t straddle = va0 + layout::page_size - 8;
    EXPECT_FALSE(copy_to_user(pt, straddle, ones, sizeof(ones)));
    uint8_t check[8] = {};
    ASSERT_TRUE(copy_from_user(pt, check, straddle, 8));
    EXPECT_EQ(check[0], 0) << "partial write before the fault";
    EXPECT_EQ(text[0], 0x90);

    // Unmapped and outside the user window.
    EXPECT_FALSE(copy_from_user(pt, check, va0 + 2 * layout::page_size, 1));
    EXPECT_FALSE(copy_from_user(pt, check, layout::user_end - 4, 8));
    EXPECT_FALSE(copy_from_user(pt, check, 0x80200000, 8));
    destroy_user_page_table(pt);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

TEST_F(KernelMemory, PokeWritesReadOnlyTextPeekReadsIt) {
    page_table_root pt = create_user_page_table();
    uint8_t* text = map_user_page(pt, va0, pte::x, 0x13); // execute-only
    uint16_t c_ebreak = 0x9002;
    EXPECT_FALSE(copy_to_user(pt, va0 + 6, &c_ebreak, 2));
    ASSERT_TRUE(poke_user(pt, va0 + 6, &c_ebreak, 2));
    EXPECT_EQ(text[6], 0x02);
    EXPECT_EQ(text[7], 0x90);
    uint16_t seen = 0;
    EXPECT_FALSE(copy_from_user(pt, &seen, va0 + 6, 2)) << "no R bit";
    ASSERT_TRUE(peek_user(pt, &seen, va0 + 6, 2));
    EXPECT_EQ(seen, 0x9002);
    destroy_user_page_table(pt);
}

// The text poke's page switch (another hart runs the process): same permissions, the new frame's
// bytes, the old frame back in the allocator.
TEST_F(KernelMemory, ReplacedFrameKeepsPermissionsAndFreesTheOld) {
    page_table_root pt = create_user_page_table();
    map_user_page(pt, va0, rx, 0x13);
    const size_t before = free_frame_count();
    auto* fresh = static_cast<uint8_t*>(alloc_frame());
    ASSERT_NE(fresh, nullptr);
    fresh[6] = 0x5a;
    ASSERT_TRUE(replace_user_frame(pt, va0, reinterpret_cast<uint64_t>(fresh)));
    EXPECT_EQ(free_frame_count(), before) << "one frame taken, the old one given back";
    EXPECT_EQ(user_va_to_pa(pt, va0 + 6, pte::x), reinterpret_cast<uint64_t>(fresh) + 6);
    EXPECT_EQ(user_va_to_pa(pt, va0 + 6, pte::w), 0u) << "still not writable";
    uint8_t seen = 0;
    ASSERT_TRUE(copy_from_user(pt, &seen, va0 + 6, 1));
    EXPECT_EQ(seen, 0x5a);
    EXPECT_FALSE(replace_user_frame(pt, va0 + 0x1000, reinterpret_cast<uint64_t>(fresh)))
        << "not mapped";
    destroy_user_page_table(pt);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

TEST_F(KernelMemory, ForkCopiesArePrivate) {
    page_table_root parent = create_user_page_table();
    uint8_t* parent_text = map_user_page(parent, va0, rx, 0x13);
    map_user_page(parent, va0 + layout::page_size, rw, 0x44);
    page_table_root child = create_user_page_table();
    ASSERT_TRUE(copy_user_pages(parent, child));

    // Same contents and permissions, different frames: a breakpoint in one stays there.
    EXPECT_NE(user_va_to_pa(child, va0, pte::x), user_va_to_pa(parent, va0, pte::x));
    EXPECT_EQ(user_va_to_pa(child, va0 + layout::page_size, pte::x), 0u);
    const uint32_t ebreak = 0x00100073;
    ASSERT_TRUE(poke_user(child, va0, &ebreak, 4));
    EXPECT_EQ(parent_text[0], 0x13);
    uint32_t in_child = 0;
    ASSERT_TRUE(peek_user(child, &in_child, va0, 4));
    EXPECT_EQ(in_child, ebreak);
    uint8_t data = 0;
    ASSERT_TRUE(copy_from_user(child, &data, va0 + layout::page_size + 100, 1));
    EXPECT_EQ(data, 0x44);

    destroy_user_page_table(child);
    destroy_user_page_table(parent);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

TEST_F(KernelMemory, StringsFromUser) {
    page_table_root pt = create_user_page_table();
    uint8_t* page = map_user_page(pt, va0, rw);
    std::memcpy(page + layout::page_size - 4, "abc", 4);
    char buf[8];
    EXPECT_EQ(copy_string_from_user(pt, buf, va0 + layout::page_size - 4, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "abc");
    std::memcpy(page + layout::page_size - 4, "abcd", 4); // runs into the unmapped next page
    EXPECT_EQ(copy_string_from_user(pt, buf, va0 + layout::page_size - 4, sizeof(buf)), -1);
    std::memset(page, 'x', 64);
    EXPECT_EQ(copy_string_from_user(pt, buf, va0, sizeof(buf)), -1) << "does not fit";
    destroy_user_page_table(pt);
}
