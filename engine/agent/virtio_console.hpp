// The virtio console (virtio spec 1.1 §5.3) that carries the wire protocol to the host: port 0
// of QEMU's `virtio-serial-device` (the first `virtconsole`), without VIRTIO_CONSOLE_F_MULTIPORT,
// so receiveq = queue 0 and transmitq = queue 1 (§5.3.2).
//
// Receive is interrupt-driven: the interrupt handler copies what the device wrote into a bounded
// byte ring and gives the buffers straight back; when the ring is full the buffers stay with the
// driver, so the device (and QEMU's socket) stop delivering instead of losing bytes.
// Transmit never waits: write() appends to a free buffer or fails (counted) when all are in
// flight. QEMU returns console transmit buffers as soon as it is notified, and discards their
// bytes when no host is connected, so the host cannot stall the kernel.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace virtio_console {

struct statistics {
    uint64_t rx_bytes = 0;
    uint64_t tx_bytes = 0;
    uint64_t tx_buffers = 0;   // buffers handed to the device
    uint64_t tx_rejected = 0;  // write() calls refused: every buffer in flight
    uint64_t rx_ring_full = 0; // times receive stalled on a full ring
    uint64_t interrupts = 0;
};

// Sets up the console whose virtio-mmio registers are at `mmio_base`: checks it is a version-2
// console (device id 3), negotiates VIRTIO_F_VERSION_1 (§3.1.1) and sets up both queues, giving
// the device addresses plus `dma_offset`. False when it is not one or it refused the features;
// the kernel then runs without a host channel.
bool init(uint64_t mmio_base, int64_t dma_offset);

bool present();

// The interrupt handler: acknowledges the device, moves received bytes into the ring and
// reclaims transmit buffers, then tells the kernel the agent has work (os_agent_notify).
void interrupt();

// Polls for completed buffers without an interrupt (same work as interrupt()).
void poll();

// Copies up to `max` received bytes into `out`; returns how many. Never waits.
size_t read(uint8_t* out, size_t max);

// Queues `len` bytes (at most one buffer, 4096) for the host. Never waits: false when no
// transmit buffer has room (counted in tx_rejected). Bytes are sent at the next flush() or when
// the current buffer is full.
bool write(const uint8_t* data, size_t len);

// Room for one frame of `len` bytes (at most one buffer) at an 8-byte aligned place of a transmit
// buffer, for the caller to fill in place and queue with commit(len): the frame is built where
// the device reads it, so nothing is copied. A buffer whose bytes end at an unaligned offset is
// handed to the device first. nullptr (counted in tx_rejected) when no buffer has room. Only the
// agent thread calls this, and nothing else writes to the transmit queue until commit().
uint8_t* reserve(size_t len);
void commit(size_t len);

// Queues one frame gathered from three parts and hands it to the device at once: `head` and
// `tail` are copied into a transmit buffer (behind what it holds), `body` is read by the device
// where it lies, so the caller must leave it unchanged until the device is done with it (QEMU's
// console reads it during the notification). False (counted in tx_rejected) when no buffer has
// room.
bool write_gather(const uint8_t* head, size_t head_len, const void* body, size_t body_len,
                  const uint8_t* tail, size_t tail_len);

// Hands the partly filled transmit buffer to the device and notifies it.
void flush();

// True when write() of `len` bytes would succeed now.
bool can_write(size_t len);

statistics stats();

} // namespace virtio_console
