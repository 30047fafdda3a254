// The agent's channel to the host, whichever the kernel chose (ruprobes_agent_config.transport):
// the bundled virtio console or the kernel's own byte channel (os_agent_channel_read/write).
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ruprobes_agent_config;

namespace agent {
class log_line;
}

namespace agent::transport {

// Sets up the transport of `config`; false when it is unusable.
bool init(const ruprobes_agent_config& config);

// Copies up to `max` received bytes into `out`; returns how many. Never waits.
size_t read(uint8_t* out, size_t max);

// Queues or sends one whole frame; false when there is no room now. Never sleeps.
bool write(const uint8_t* data, size_t len);

// Room for one whole frame of `len` bytes, 8-byte aligned, to be built in place and queued with
// commit(len) (virtio: in the transmit buffer the device reads; a byte channel: in a staging
// buffer that commit() writes). nullptr when there is no room now. Agent thread only.
uint8_t* reserve(size_t len);
// Queues the frame reserve() gave; false when the byte channel refused it.
bool commit(size_t len);

// The virtio console only (is_virtio()): one frame from three parts, `body` read by the device
// where it lies (virtio_console::write_gather). False when there is no room now.
bool write_gather(const uint8_t* head, size_t head_len, const void* body, size_t body_len,
                  const uint8_t* tail, size_t tail_len);

// True when the transport is the virtio console (a reliable memory transport, protocol/README.md
// §1) rather than a byte channel.
bool is_virtio();

// Hands what write() queued to the device (virtio); nothing for a byte channel.
void flush();

// Takes completed buffers without an interrupt (virtio); nothing for a byte channel.
void poll();

// The virtio console's interrupt (ruprobes_agent_virtio_interrupt); nothing for a byte channel.
void interrupt();

// "virtio console" or "byte channel", for the log.
const char* name();

// Appends the transport's counters to a log line (virtio: interrupts and bytes).
void describe(log_line& line);

} // namespace agent::transport
