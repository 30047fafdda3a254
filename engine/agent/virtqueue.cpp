// Split virtqueue setup and ring handling (virtio spec 1.1 §2.6, §4.2.3.2).
#include "agent/virtqueue.hpp"

namespace virtio {

namespace {

uint64_t device_address(const void* p, int64_t dma_offset) {
    return reinterpret_cast<uint64_t>(p) + static_cast<uint64_t>(dma_offset);
}

} // namespace

bool virtqueue::init(const mmio_device& dev, uint32_t index, bool device_writable,
                     int64_t dma_offset) {
    dev_ = dev;
    index_ = index;
    writable_ = device_writable;
    last_used_ = 0;
    dma_offset_ = dma_offset;
    dev.write(reg::queue_sel, index);
    if (dev.read(reg::queue_ready) != 0) {
        return false; // §4.2.3.2: the queue must not be in use
    }
    uint32_t max = dev.read(reg::queue_num_max);
    if (max == 0 || max < queue_size) {
        return false;
    }
    for (uint16_t i = 0; i < queue_size; i++) {
        desc_[i].addr = i < buffer_count ? device_address(buffers_[i], dma_offset) : 0;
        desc_[i].len = 0;
        desc_[i].flags = writable_ ? desc_flag_write : 0;
        desc_[i].next = 0;
    }
    avail_.flags = 0;
    avail_.idx = 0;
    used_.flags = 0;
    used_.idx = 0;
    dev.write(reg::queue_num, queue_size);
    dev.write64(reg::queue_desc_low, device_address(desc_, dma_offset));
    dev.write64(reg::queue_driver_low, device_address(&avail_, dma_offset));
    dev.write64(reg::queue_device_low, device_address(&used_, dma_offset));
    memory_barrier();
    dev.write(reg::queue_ready, 1);
    return true;
}

void virtqueue::post(uint16_t id, uint32_t len) {
    desc_[id].len = len;
    desc_[id].flags = writable_ ? desc_flag_write : 0; // no chain
    avail_.ring[avail_.idx % queue_size] = id;
    // §2.6.13.2: the ring entry must be visible before the index that publishes it.
    memory_barrier();
    avail_.idx = static_cast<uint16_t>(avail_.idx + 1);
}

void virtqueue::post_gather(uint16_t id, uint32_t len, const void* body, uint32_t body_len,
                            uint32_t tail_offset, uint32_t tail_len) {
    const uint16_t b = static_cast<uint16_t>(buffer_count + 2 * id);
    const uint16_t t = static_cast<uint16_t>(b + 1);
    desc_[id].len = len;
    desc_[id].flags = desc_flag_next;
    desc_[id].next = b;
    desc_[b].addr = device_address(body, dma_offset_);
    desc_[b].len = body_len;
    desc_[b].flags = desc_flag_next;
    desc_[b].next = t;
    desc_[t].addr = device_address(buffers_[id] + tail_offset, dma_offset_);
    desc_[t].len = tail_len;
    desc_[t].flags = 0;
    desc_[t].next = 0;
    avail_.ring[avail_.idx % queue_size] = id;
    memory_barrier();
    avail_.idx = static_cast<uint16_t>(avail_.idx + 1);
}

void virtqueue::notify() {
    memory_barrier();
    dev_.write(reg::queue_notify, index_);
}

bool virtqueue::take_used(uint16_t& id, uint32_t& len) {
    memory_barrier();
    uint16_t device_idx = *static_cast<volatile uint16_t*>(&used_.idx);
    if (device_idx == last_used_) {
        return false;
    }
    memory_barrier(); // read the element only after its index (§2.6.14)
    const used_element& e = used_.ring[last_used_ % queue_size];
    id = static_cast<uint16_t>(e.id % buffer_count);
    len = e.len;
    last_used_ = static_cast<uint16_t>(last_used_ + 1);
    return true;
}

void virtqueue::suppress_interrupts() {
    avail_.flags = avail_flag_no_interrupt;
}

} // namespace virtio
