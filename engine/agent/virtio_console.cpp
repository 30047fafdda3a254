// virtio console driver over the modern virtio-mmio transport (virtio spec 1.1 §3.1.1 device
// initialisation, §4.2.3 MMIO-specific initialisation, §5.3 console device).
#include "agent/virtio_console.hpp"

#include "agent/agent_lock.hpp"
#include "agent/agent_string.hpp"
#include "agent/virtqueue.hpp"

#include "ruprobes/agent.h"

namespace virtio_console {
namespace {

constexpr uint32_t receiveq = 0;  // port 0 receive (§5.3.2)
constexpr uint32_t transmitq = 1; // port 0 transmit
constexpr size_t rx_ring_size = 16384;

struct state {
    bool present = false;
    virtio::mmio_device dev;
    virtio::virtqueue rx;
    virtio::virtqueue tx;

    // Receive: bytes waiting for read(); a used buffer not yet fully copied into the ring.
    uint8_t ring[rx_ring_size];
    size_t ring_head = 0; // next byte to read
    size_t ring_count = 0;
    bool pending = false;
    uint16_t pending_id = 0;
    uint32_t pending_len = 0;
    uint32_t pending_off = 0;

    // Transmit: buffers not with the device, and the one being filled.
    uint16_t free_ids[virtio::buffer_count];
    uint16_t free_count = 0;
    bool open = false;
    uint16_t open_id = 0;
    uint32_t open_len = 0;

    statistics stats;
};

constinit state s{};

// Copies a frame's header or trailer into a transmit buffer: by words where both ends allow
// (a frame opened at a buffer's start), without a call to memcpy for a few bytes.
void copy_small(uint8_t* dst, const uint8_t* src, size_t len) {
    const uintptr_t where = reinterpret_cast<uintptr_t>(dst) | reinterpret_cast<uintptr_t>(src);
    if (((where | len) & 7) == 0) {
        for (size_t i = 0; i < len; i += 8) {
            uint64_t w;
            __builtin_memcpy(&w, __builtin_assume_aligned(src + i, 8), 8);
            __builtin_memcpy(__builtin_assume_aligned(dst + i, 8), &w, 8);
        }
    } else if (len == 4 && (where & 3) == 0) {
        uint32_t w;
        __builtin_memcpy(&w, __builtin_assume_aligned(src, 4), 4);
        __builtin_memcpy(__builtin_assume_aligned(dst, 4), &w, 4);
    } else {
        __builtin_memcpy(dst, src, len);
    }
}

// Ring updates shared with the interrupt handler take the agent's lock (agent::agent_lock): it
// excludes the interrupt on this hart and the other harts.

// Copies used receive buffers into the ring and reposts them. Interrupts off.
bool pump_rx() {
    bool got = false;
    bool reposted = false;
    while (true) {
        if (!s.pending) {
            uint16_t id;
            uint32_t len;
            if (!s.rx.take_used(id, len)) {
                break;
            }
            s.pending = true;
            s.pending_id = id;
            s.pending_len = len < virtio::queue_buffer_size ? len : virtio::queue_buffer_size;
            s.pending_off = 0;
        }
        const uint8_t* data = s.rx.buffer(s.pending_id);
        // In pieces contiguous in the ring (two at most).
        while (s.pending_off < s.pending_len && s.ring_count < rx_ring_size) {
            const size_t at = (s.ring_head + s.ring_count) % rx_ring_size;
            size_t n = s.pending_len - s.pending_off;
            n = n < rx_ring_size - s.ring_count ? n : rx_ring_size - s.ring_count;
            n = n < rx_ring_size - at ? n : rx_ring_size - at;
            __builtin_memcpy(&s.ring[at], data + s.pending_off, n);
            s.pending_off += static_cast<uint32_t>(n);
            s.ring_count += n;
            s.stats.rx_bytes += n;
            got = true;
        }
        if (s.pending_off < s.pending_len) {
            s.stats.rx_ring_full++;
            break; // the ring is full: keep the buffer until read() makes room
        }
        s.pending = false;
        s.rx.post(s.pending_id, virtio::queue_buffer_size);
        reposted = true;
    }
    if (reposted) {
        s.rx.notify();
    }
    return got;
}

// Takes back transmit buffers the device has finished with. Interrupts off.
void reclaim_tx() {
    uint16_t id;
    uint32_t len;
    while (s.tx.take_used(id, len)) {
        if (s.free_count < virtio::buffer_count) {
            s.free_ids[s.free_count++] = id;
        }
    }
}

// Hands the open transmit buffer to the device. Interrupts off.
void submit_open() {
    if (!s.open || s.open_len == 0) {
        return;
    }
    s.tx.post(s.open_id, s.open_len);
    s.tx.notify();
    s.stats.tx_buffers++;
    s.open = false;
    s.open_len = 0;
}

// True when bytes were received (the caller tells the kernel, outside the lock).
bool service() {
    reclaim_tx();
    return pump_rx();
}

void log_failure(uint64_t base, const char* what) {
    agent::log_line line;
    line.text("virtio-console: at 0x").hex(base).text(": ").text(what);
    os_agent_log(line.c_str());
}

bool setup(uint64_t base, int64_t dma_offset) {
    using namespace virtio;
    mmio_device dev(base);
    s.dev = dev;
    // §3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK.
    dev.write(reg::status, 0);
    memory_barrier();
    uint32_t st = status::acknowledge;
    dev.write(reg::status, st);
    st |= status::driver;
    dev.write(reg::status, st);

    dev.write(reg::device_features_sel, 0);
    uint64_t offered = dev.read(reg::device_features);
    dev.write(reg::device_features_sel, 1);
    offered |= static_cast<uint64_t>(dev.read(reg::device_features)) << 32;
    if ((offered & feature_version_1) == 0) {
        log_failure(base, "no VIRTIO_F_VERSION_1 offered");
        dev.write(reg::status, st | status::failed);
        return false;
    }
    // Only VERSION_1: no MULTIPORT (port 0 is the console), no SIZE, no EMERG_WRITE.
    uint64_t wanted = feature_version_1;
    dev.write(reg::driver_features_sel, 0);
    dev.write(reg::driver_features, static_cast<uint32_t>(wanted));
    dev.write(reg::driver_features_sel, 1);
    dev.write(reg::driver_features, static_cast<uint32_t>(wanted >> 32));
    st |= status::features_ok;
    dev.write(reg::status, st);
    if ((dev.read(reg::status) & status::features_ok) == 0) {
        log_failure(base, "the features were refused");
        dev.write(reg::status, st | status::failed);
        return false;
    }

    if (!s.rx.init(dev, receiveq, true, dma_offset) ||
        !s.tx.init(dev, transmitq, false, dma_offset)) {
        log_failure(base, "queues unavailable");
        dev.write(reg::status, st | status::failed);
        return false;
    }
    s.tx.suppress_interrupts();
    s.free_count = 0;
    for (uint16_t i = 0; i < buffer_count; i++) {
        s.free_ids[s.free_count++] = i;
    }

    st |= status::driver_ok;
    dev.write(reg::status, st);

    for (uint16_t i = 0; i < buffer_count; i++) {
        s.rx.post(i, queue_buffer_size);
    }
    s.rx.notify();
    return true;
}

} // namespace

bool init(uint64_t mmio_base, int64_t dma_offset) {
    using namespace virtio;
    mmio_device dev(mmio_base);
    if (dev.read(reg::magic) != mmio_magic || dev.read(reg::device_id) != device_console) {
        return false;
    }
    uint32_t version = dev.read(reg::version);
    if (version != 2) {
        log_failure(mmio_base, "legacy device (version 1); QEMU needs "
                               "-global virtio-mmio.force-legacy=false");
        return false;
    }
    if (!setup(mmio_base, dma_offset)) {
        return false;
    }
    s.present = true;
    agent::log_line line;
    line.text("virtio-console: at 0x").hex(mmio_base);
    os_agent_log(line.c_str());
    return true;
}

bool present() {
    return s.present;
}

void interrupt() {
    if (!s.present) {
        return;
    }
    bool got;
    {
        agent::agent_lock guard;
        uint32_t why = s.dev.read(virtio::reg::interrupt_status);
        s.dev.write(virtio::reg::interrupt_ack, why);
        s.stats.interrupts++;
        got = service();
    }
    if (got) {
        os_agent_notify(RUPROBES_AGENT_NOTICE_WORK);
    }
}

void poll() {
    if (!s.present) {
        return;
    }
    agent::agent_lock guard;
    service(); // the caller is the agent, which reads next
}

size_t read(uint8_t* out, size_t max) {
    if (!s.present) {
        return 0;
    }
    agent::agent_lock guard;
    size_t n = 0;
    while (n < max && s.ring_count > 0) { // in pieces contiguous in the ring (two at most)
        size_t k = max - n;
        k = k < s.ring_count ? k : s.ring_count;
        k = k < rx_ring_size - s.ring_head ? k : rx_ring_size - s.ring_head;
        __builtin_memcpy(out + n, &s.ring[s.ring_head], k);
        n += k;
        s.ring_head = (s.ring_head + k) % rx_ring_size;
        s.ring_count -= k;
    }
    if (s.pending) {
        pump_rx(); // room was made: take the rest of a stalled buffer
    }
    return n;
}

bool can_write(size_t len) {
    if (!s.present || len > virtio::queue_buffer_size) {
        return false;
    }
    agent::agent_lock guard;
    reclaim_tx();
    if (s.open && s.open_len + len <= virtio::queue_buffer_size) {
        return true;
    }
    return s.free_count > 0;
}

bool write(const uint8_t* data, size_t len) {
    if (!s.present || len > virtio::queue_buffer_size) {
        return false;
    }
    agent::agent_lock guard;
    reclaim_tx();
    if (s.open && s.open_len + len > virtio::queue_buffer_size) {
        submit_open();
    }
    if (!s.open) {
        if (s.free_count == 0) {
            s.stats.tx_rejected++;
            return false;
        }
        s.open_id = s.free_ids[--s.free_count];
        s.open = true;
        s.open_len = 0;
    }
    __builtin_memcpy(s.tx.buffer(s.open_id) + s.open_len, data, len);
    s.open_len += static_cast<uint32_t>(len);
    s.stats.tx_bytes += len;
    return true;
}

uint8_t* reserve(size_t len) {
    if (!s.present || len > virtio::queue_buffer_size) {
        return nullptr;
    }
    agent::agent_lock guard;
    reclaim_tx();
    if (s.open && ((s.open_len & 7) != 0 || s.open_len + len > virtio::queue_buffer_size)) {
        submit_open();
    }
    if (!s.open) {
        if (s.free_count == 0) {
            s.stats.tx_rejected++;
            return nullptr;
        }
        s.open_id = s.free_ids[--s.free_count];
        s.open = true;
        s.open_len = 0;
    }
    return s.tx.buffer(s.open_id) + s.open_len;
}

void commit(size_t len) {
    agent::agent_lock guard;
    s.open_len += static_cast<uint32_t>(len);
    s.stats.tx_bytes += len;
}

bool write_gather(const uint8_t* head, size_t head_len, const void* body, size_t body_len,
                  const uint8_t* tail, size_t tail_len) {
    if (!s.present || head_len + tail_len > virtio::queue_buffer_size) {
        return false;
    }
    agent::agent_lock guard;
    reclaim_tx();
    if (s.open && s.open_len + head_len + tail_len > virtio::queue_buffer_size) {
        submit_open();
    }
    if (!s.open) {
        if (s.free_count == 0) {
            s.stats.tx_rejected++;
            return false;
        }
        s.open_id = s.free_ids[--s.free_count];
        s.open = true;
        s.open_len = 0;
    }
    uint8_t* buffer = s.tx.buffer(s.open_id);
    copy_small(buffer + s.open_len, head, head_len);
    const uint32_t tail_offset = s.open_len + static_cast<uint32_t>(head_len);
    copy_small(buffer + tail_offset, tail, tail_len);
    s.tx.post_gather(s.open_id, tail_offset, body, static_cast<uint32_t>(body_len), tail_offset,
                     static_cast<uint32_t>(tail_len));
    s.tx.notify();
    s.stats.tx_buffers++;
    s.stats.tx_bytes += head_len + body_len + tail_len;
    s.open = false;
    s.open_len = 0;
    return true;
}

void flush() {
    if (!s.present) {
        return;
    }
    agent::agent_lock guard;
    submit_open();
    reclaim_tx();
}

statistics stats() {
    agent::agent_lock guard;
    return s.stats;
}

} // namespace virtio_console
