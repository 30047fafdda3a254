// A fresh frame allocator over a host buffer (VA == "PA" on the host too) and an empty kernel
// page table for each test.
#pragma once

#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"
#include "mm/page_table.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

class KernelMemory : public ::testing::Test {
protected:
    static constexpr size_t pages = 1024;

    void SetUp() override {
        memory_ = static_cast<uint8_t*>(std::aligned_alloc(layout::page_size, pages * 4096));
        ASSERT_NE(memory_, nullptr);
        const auto begin = reinterpret_cast<uint64_t>(memory_);
        frame_allocator_init(begin, begin + pages * layout::page_size, 0, 0);
        set_kernel_page_table(static_cast<page_table_root>(alloc_frame()));
        ASSERT_NE(kernel_page_table(), nullptr);
        frames_at_start_ = free_frame_count();
    }
    void TearDown() override {
        set_kernel_page_table(nullptr);
        std::free(memory_);
    }

    // A user page of `flags` at `va`, filled with `fill`; returns its frame.
    uint8_t* map_user_page(page_table_root pt, uint64_t va, uint64_t flags, uint8_t fill = 0) {
        auto* frame = static_cast<uint8_t*>(alloc_frame());
        EXPECT_NE(frame, nullptr);
        for (size_t i = 0; i < layout::page_size; i++) {
            frame[i] = fill;
        }
        EXPECT_TRUE(map_page(pt, va, reinterpret_cast<uint64_t>(frame), flags | pte::u));
        return frame;
    }

    size_t frames_at_start_ = 0;

private:
    uint8_t* memory_ = nullptr;
};
