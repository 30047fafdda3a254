#include "mm/frame_allocator.hpp"

#include "lib/string.hpp"
#include "mm/layout.hpp"

namespace {

struct free_node {
    free_node* next;
};

free_node* free_list = nullptr;
size_t free_count = 0;
uint64_t pool_next = 0;
uint64_t pool_end = 0;

void add_range(uint64_t begin, uint64_t end) {
    begin = layout::page_round_up(begin);
    end = layout::page_round_down(end);
    // Pushed from the top down, so the list hands out low addresses first.
    for (uint64_t a = end; a > begin; a -= layout::page_size) {
        auto* node = reinterpret_cast<free_node*>(a - layout::page_size);
        node->next = free_list;
        free_list = node;
        free_count++;
    }
}

} // namespace

void frame_allocator_init(uint64_t begin, uint64_t end, uint64_t hole_begin, uint64_t hole_end) {
    free_list = nullptr;
    free_count = 0;
    begin = layout::page_round_up(begin);
    pool_next = begin;
    pool_end = begin + contiguous_pool_pages * layout::page_size;
    begin = pool_end;
    if (hole_end <= begin || hole_begin >= end) {
        add_range(begin, end);
        return;
    }
    if (hole_begin > begin) {
        add_range(begin, hole_begin);
    }
    if (hole_end < end) {
        add_range(hole_end, end);
    }
}

void* alloc_frame() {
    free_node* node = free_list;
    if (node == nullptr) {
        return nullptr;
    }
    free_list = node->next;
    free_count--;
    kmemset(node, 0, layout::page_size);
    return node;
}

void free_frame(void* frame) {
    if (frame == nullptr) {
        return;
    }
    auto* node = static_cast<free_node*>(frame);
    node->next = free_list;
    free_list = node;
    free_count++;
}

void* alloc_frames_contiguous(size_t pages) {
    const uint64_t size = pages * layout::page_size;
    if (pages == 0 || size > pool_end - pool_next) {
        return nullptr;
    }
    void* p = reinterpret_cast<void*>(pool_next);
    pool_next += size;
    kmemset(p, 0, size);
    return p;
}

size_t free_frame_count() {
    return free_count;
}
