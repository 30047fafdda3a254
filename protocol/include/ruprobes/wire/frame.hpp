// Frames of the wire protocol (protocol/README.md §1): encoding into caller buffers and an
// incremental decoder over a byte stream that resynchronises after garbage.
//
//  0      4        5        6      8            12       16              16+len
//  +------+--------+--------+------+------------+--------+---------------+--------+
//  | RUPW | version| flags  | type | request_id | length | payload ...   | crc32  |
//  +------+--------+--------+------+------------+--------+---------------+--------+
//  little-endian; crc32 covers bytes [0, 16+len); length <= max_payload.
#pragma once

#include <optional>

#include "ruprobes/wire/byte_io.hpp"

namespace ruprobes::wire {

inline constexpr std::array<uint8_t, 4> frame_magic = {'R', 'U', 'P', 'W'};
inline constexpr uint8_t protocol_version = 1;
inline constexpr size_t header_size = 16;
inline constexpr size_t trailer_size = 4;
inline constexpr size_t max_frame = 4096;
inline constexpr size_t max_payload = max_frame - header_size - trailer_size; // 4076

// A decoded frame. `payload` points into the decoder's buffer.
struct frame {
    uint16_t type = 0;
    uint32_t request_id = 0;
    std::span<const uint8_t> payload;
};

// Builds one frame in `out`: write the payload through payload(), then finish().
// Header flags (README §1): the trailer is word_checksum() instead of CRC-32.
inline constexpr uint8_t frame_flag_word_checksum = 1u << 0;
// Header flags bit 1 (README §1, only on `hits` frames): a sequence-checked frame. The trailer is
// word_checksum() of the header and the hits fields (the first seq_checked_bytes bytes); the
// reader checks the records by their layout and consecutive seq numbers instead of by checksum.
inline constexpr uint8_t frame_flag_seq_checked = 1u << 1;
inline constexpr size_t seq_checked_bytes = 32;

class frame_builder {
public:
    // `flags`: 0, frame_flag_word_checksum or (a hits frame) frame_flag_seq_checked, the last two
    // only for a peer that offered the capability.
    frame_builder(std::span<uint8_t> out, uint16_t type, uint32_t request_id, uint8_t flags = 0);

    // The payload area (up to max_payload bytes, less if `out` is smaller).
    byte_writer& payload() { return payload_; }

    // Writes header and CRC. Returns the frame's total size, or 0 when it did not fit in `out`
    // (or the payload exceeded max_payload).
    size_t finish();

private:
    std::span<uint8_t> out_;
    uint16_t type_;
    uint32_t request_id_;
    uint8_t flags_;
    byte_writer payload_;
};

// Encodes a frame with an already serialised payload. Returns its size, 0 if it does not fit.
size_t encode_frame(std::span<uint8_t> out, uint16_t type, uint32_t request_id,
                    std::span<const uint8_t> payload);

// Why the decoder refused a frame (README §1, "Decoding and resynchronisation").
enum class reject_reason : uint8_t {
    bad_header = 0,    // version or flags wrong
    oversize = 1,      // length > max_payload
    bad_crc = 2,       // trailer mismatch
    unknown_type = 3,  // valid frame, type not in the spec
    short_payload = 4, // valid frame, payload shorter than its type's fixed part
};
inline constexpr size_t reject_reason_count = 5;

// A stable name for `r` ("bad_crc", ...).
const char* reject_reason_name(reject_reason r);

struct decoder_stats {
    uint64_t frames = 0;        // frames delivered
    uint64_t garbage_bytes = 0; // bytes skipped while looking for the magic
    std::array<uint64_t, reject_reason_count> rejected{};

    uint64_t rejected_total() const {
        uint64_t n = 0;
        for (uint64_t v : rejected) {
            n += v;
        }
        return n;
    }
    uint64_t rejected_for(reject_reason r) const { return rejected[static_cast<size_t>(r)]; }
};

// Incremental decoder over a byte stream. Holds at most one maximum frame of input in a buffer
// the caller provides (at least max_frame bytes). Usage:
//
//   while (!input.empty()) {
//       input = input.subspan(decoder.feed(input));
//       while (auto f = decoder.next()) handle(*f);
//   }
class frame_decoder {
public:
    // `storage` must outlive the decoder and hold at least max_frame bytes; a smaller buffer
    // makes feed() accept nothing (every frame would be undecodable).
    // constexpr, so a kernel's global decoder needs no constructor call at boot.
    constexpr explicit frame_decoder(std::span<uint8_t> storage) : buf_(storage) {}

    // Copies as many bytes of `input` as fit into the buffer and returns how many it took.
    // Invalidates the payloads of frames returned earlier.
    size_t feed(std::span<const uint8_t> input);

    // The next complete, valid frame in the buffered bytes, or nothing when more input is
    // needed. Skips garbage and rejects bad frames (counted in stats()), rescanning from one
    // byte after a rejected magic. The payload stays valid until the next feed() or reset().
    std::optional<frame> next();

    // Forgets buffered bytes (e.g. when the connection is replaced); keeps the statistics.
    void reset() { begin_ = end_ = 0; }

    size_t buffered() const { return end_ - begin_; }
    const decoder_stats& stats() const { return stats_; }

private:
    void reject(reject_reason r, size_t skip);

    std::span<uint8_t> buf_;
    size_t begin_ = 0;
    size_t end_ = 0;
    decoder_stats stats_;
};

} // namespace ruprobes::wire
