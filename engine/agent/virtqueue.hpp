// A split virtqueue (virtio spec 1.1 §2.6) with fixed-size buffers owned by the queue: the
// driver posts buffer i as descriptor i, so a used element's id names the buffer directly.
//
//   descriptor table: 16 bytes per entry   (§2.6.5)   addr u64 | len u32 | flags u16 | next u16
//   available ring:   flags | idx | ring[N] | used_event        (§2.6.6)
//   used ring:        flags | idx | {id u32, len u32}[N] | avail_event   (§2.6.8)
//
// The device is given the rings' and buffers' kernel virtual addresses plus the kernel's DMA
// offset (ruprobes_agent_config.virtio_dma_offset; 0 for an identity-mapped kernel).
#pragma once

#include "agent/virtio_mmio.hpp"

namespace virtio {

constexpr uint16_t buffer_count = 16;        // buffers per queue
constexpr uint32_t queue_buffer_size = 4096; // bytes per buffer: one maximum wire frame
// Descriptors (and ring entries) per queue, a power of two (§2.6): descriptor i < buffer_count
// is buffer i; buffer i's gather chain (post_gather) uses descriptors buffer_count + 2i and
// buffer_count + 2i + 1. QEMU offers up to 128+.
constexpr uint16_t queue_size = 64;
static_assert(buffer_count * 3 <= queue_size);

class virtqueue {
public:
    // Hands the rings of queue `index` to `dev` (§4.2.3.2). `device_writable`: buffers the
    // device fills (receive) instead of reads (transmit). False when the device offers no such
    // queue or a smaller one than queue_size.
    bool init(const mmio_device& dev, uint32_t index, bool device_writable, int64_t dma_offset);

    // Makes buffer `id` (0..buffer_count-1) with `len` bytes available to the device. Does not
    // notify.
    void post(uint16_t id, uint32_t len);
    // Makes a device-readable chain available (transmit queues): buffer `id`'s first `len`
    // bytes, then `body_len` bytes at `body` (memory the caller leaves unchanged until the device
    // returns `id`), then `tail_len` bytes of buffer `id` from `tail_offset`. Does not notify.
    void post_gather(uint16_t id, uint32_t len, const void* body, uint32_t body_len,
                     uint32_t tail_offset, uint32_t tail_len);
    // Tells the device new buffers are available.
    void notify();

    // The next buffer the device has finished with: its id and the bytes it wrote (receive
    // queues). False when there is none.
    bool take_used(uint16_t& id, uint32_t& len);

    // Asks the device not to interrupt for this queue (transmit: buffers are reclaimed lazily).
    void suppress_interrupts();

    uint8_t* buffer(uint16_t id) { return buffers_[id]; }

private:
    struct alignas(16) descriptor {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
    };
    struct alignas(2) available_ring {
        uint16_t flags;
        uint16_t idx;
        uint16_t ring[queue_size];
        uint16_t used_event;
    };
    struct used_element {
        uint32_t id;
        uint32_t len;
    };
    struct alignas(4) used_ring {
        uint16_t flags;
        uint16_t idx;
        used_element ring[queue_size];
        uint16_t avail_event;
    };

    static constexpr uint16_t desc_flag_next = 1;
    static constexpr uint16_t desc_flag_write = 2;
    static constexpr uint16_t avail_flag_no_interrupt = 1;

    mmio_device dev_;
    uint32_t index_ = 0;
    bool writable_ = false;
    uint16_t last_used_ = 0;
    int64_t dma_offset_ = 0;
    descriptor desc_[queue_size] = {};
    available_ring avail_ = {};
    used_ring used_ = {};
    alignas(16) uint8_t buffers_[buffer_count][queue_buffer_size] = {};
};

} // namespace virtio
