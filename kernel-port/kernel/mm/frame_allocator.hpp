// Physical 4 KiB frames. The kernel maps all RAM at VA == PA, so a frame's physical address is
// also the pointer the kernel uses; a device that needs a bus address gets the same number.
#pragma once

#include <stddef.h>
#include <stdint.h>

// Hands [begin, end) to the allocator, minus [hole_begin, hole_end) (the DTB). Page-aligns inward.
// Reserves the pool for alloc_frames_contiguous first. Call once at boot (a later call forgets
// every earlier frame: the host unit tests start over with it).
void frame_allocator_init(uint64_t begin, uint64_t end, uint64_t hole_begin, uint64_t hole_end);

// A zeroed 4 KiB frame, or nullptr when memory is exhausted (callers must check).
void* alloc_frame();

// Returns a frame from alloc_frame. nullptr is ignored.
void free_frame(void* frame);

// `pages` zeroed, physically contiguous frames for device rings (virtqueues), from a small pool
// reserved at boot (contiguous_pool_pages). Never freed. nullptr when the pool is exhausted.
void* alloc_frames_contiguous(size_t pages);
constexpr size_t contiguous_pool_pages = 64;

// Frames currently free (for diagnostics and leak checks).
size_t free_frame_count();
