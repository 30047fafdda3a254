// `hits` frames (protocol/README.md §1, §3) of records as they lie in the agent's ring, which
// keeps each record in its wire layout: a frame is a header, the records copied once, and a
// trailer; on the virtio console the device reads the records from the ring itself.
#pragma once

#include "agent/hit_ring.hpp"
#include "ruprobes/wire/frame.hpp"
#include "ruprobes/wire/messages.hpp"

#include <stddef.h>
#include <stdint.h>

namespace agent {

namespace wire = ruprobes::wire;

// Builds the frame of `n` records from `first_seq` at `out` (8-byte aligned, room for
// header_size + 16 + n * hit_record_size + trailer_size bytes), sealed as `flags` says (0:
// CRC-32, word checksum, or sequence-checked: the trailer covers the header and the fields).
void build_hit_frame(uint8_t* out, uint64_t first_seq, const wire::hit_record* records, uint32_t n,
                     uint8_t flags);
// The same frame of the records of `runs` (consecutive in seq: hit_rings::unsent_runs).
void build_hit_frame(uint8_t* out, const hit_run* runs, uint32_t count, uint8_t flags);

// Queues a sequence-checked frame of `n` records from `first_seq` on the virtio console without
// copying them: header and trailer in a transmit buffer, the records read by the device where
// they lie. The ring must leave them unchanged until the host acknowledges them. False when the
// transmit buffers are busy.
bool send_hit_frame_in_place(uint64_t first_seq, const wire::hit_record* records, uint32_t n);

} // namespace agent
