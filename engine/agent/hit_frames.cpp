#include "agent/hit_frames.hpp"

#include "agent/transport.hpp"

#include "ruprobes/wire/crc32.hpp"
#include "ruprobes/wire/word_checksum.hpp"

#include <stddef.h>

namespace agent {

namespace {

// The ring keeps each record in its wire layout (a little-endian kernel and a struct without
// holes but the reserved bytes: checked here), so a record goes into a frame with one copy
// instead of being encoded field by field.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
static_assert(sizeof(wire::hit_record) == wire::hit_record_size);
static_assert(offsetof(wire::hit_record, pid) == 16 && offsetof(wire::hit_record, pc) == 24 &&
              offsetof(wire::hit_record, probe_id) == 32 &&
              offsetof(wire::hit_record, kind) == 36 && offsetof(wire::hit_record, flags) == 37 &&
              offsetof(wire::hit_record, a) == 40 && offsetof(wire::hit_record, sp) == 104 &&
              offsetof(wire::hit_record, ret) == 120);

// `p` is 8-byte aligned: one store (a store the compiler cannot prove aligned is eight).
void put_u64(uint8_t* p, uint64_t v) {
    __builtin_memcpy(__builtin_assume_aligned(p, 8), &v, 8);
}

// Copies `n` records into an 8-byte aligned place: four 64-bit words per step.
void copy_records(uint8_t* out, const wire::hit_record* records, uint32_t n) {
    const auto* in = reinterpret_cast<const uint8_t*>(records);
    out = static_cast<uint8_t*>(__builtin_assume_aligned(out, 8));
    for (size_t i = 0; i < size_t(n) * sizeof(wire::hit_record); i += 32) {
        uint64_t w[4];
        __builtin_memcpy(w, in + i, 32);
        __builtin_memcpy(out + i, w, 32);
    }
}

// The header and the hits fields of a frame of `n` records from `first_seq` (32 bytes at `out`,
// 8-byte aligned; protocol/README.md §1, §3).
void put_hit_header(uint8_t* out, uint64_t first_seq, uint32_t n, uint8_t flags) {
    const uint32_t length = uint32_t(16 + n * wire::hit_record_size);
    put_u64(out, uint64_t(0x57505552u) | uint64_t(wire::protocol_version) << 32 |
                     uint64_t(flags) << 40 | uint64_t(wire::hits_event::code) << 48);
    put_u64(out + 8, uint64_t(length) << 32); // request id 0
    put_u64(out + 16, first_seq);
    put_u64(out + 24, uint64_t(n) | uint64_t(wire::hit_record_size) << 16);
}

} // namespace

namespace {

// The trailer of the frame of `n` records at `out` whose header and records are in place.
void seal_hit_frame(uint8_t* out, uint32_t n, uint8_t flags) {
    const uint32_t length = uint32_t(16 + n * wire::hit_record_size);
    // Sequence-checked: the trailer covers the header and the fields, the reader checks the
    // records by their seq (protocol/README.md §1).
    const size_t covered = (flags & wire::frame_flag_seq_checked) != 0 ? wire::seq_checked_bytes
                                                                       : wire::header_size + length;
    std::span<const uint8_t> bytes(out, covered);
    const uint32_t trailer = flags == 0 ? wire::crc32(bytes) : wire::word_checksum(bytes);
    __builtin_memcpy(out + wire::header_size + length, &trailer, 4);
}

} // namespace

// Builds the `hits` frame of `n` records from `first_seq` at `out` (8-byte aligned): header,
// fields, the records as they lie in the ring, trailer.
void build_hit_frame(uint8_t* out, uint64_t first_seq, const wire::hit_record* records, uint32_t n,
                     uint8_t flags) {
    put_hit_header(out, first_seq, n, flags);
    copy_records(out + 32, records, n);
    seal_hit_frame(out, n, flags);
}

void build_hit_frame(uint8_t* out, const hit_run* runs, uint32_t count, uint8_t flags) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        copy_records(out + 32 + size_t(n) * wire::hit_record_size, runs[i].records, runs[i].n);
        n += runs[i].n;
    }
    put_hit_header(out, runs[0].first_seq, n, flags);
    seal_hit_frame(out, n, flags);
}

// A sequence-checked frame on the virtio console goes without copying its records: the device
// reads them from the ring, between the header and the trailer in a transmit buffer. The ring
// leaves them unchanged until the host acknowledges them, long after QEMU has read them.
bool send_hit_frame_in_place(uint64_t first_seq, const wire::hit_record* records, uint32_t n) {
    alignas(8) uint8_t head[wire::seq_checked_bytes];
    put_hit_header(head, first_seq, n, wire::frame_flag_seq_checked);
    const uint32_t trailer = wire::word_checksum(std::span<const uint8_t>(head, sizeof head));
    alignas(4) uint8_t tail[wire::trailer_size];
    __builtin_memcpy(tail, &trailer, sizeof tail);
    return transport::write_gather(head, sizeof head, records, n * wire::hit_record_size, tail,
                                   sizeof tail);
}

} // namespace agent
