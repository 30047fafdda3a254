// Frame encoding and the resynchronising decoder (protocol/README.md §1).
#include "ruprobes/wire/frame.hpp"

#include "ruprobes/wire/crc32.hpp"
#include "ruprobes/wire/messages.hpp"
#include "ruprobes/wire/word_checksum.hpp"

namespace ruprobes::wire {
namespace {

void put_le(uint8_t* p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        p[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

uint64_t get_le(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    }
    return v;
}

std::span<uint8_t> payload_area(std::span<uint8_t> out) {
    if (out.size() < header_size + trailer_size) {
        return {};
    }
    size_t room = out.size() - header_size - trailer_size;
    return out.subspan(header_size, room < max_payload ? room : max_payload);
}

// Writes header and trailer around a payload already at out[header_size...].
// The trailer of the frame in p[0, header_size + length), by its flags.
uint32_t trailer_of(const uint8_t* p, size_t length, uint8_t flags) {
    if ((flags & frame_flag_seq_checked) != 0) {
        size_t n = header_size + length;
        return word_checksum(
            std::span<const uint8_t>(p, n < seq_checked_bytes ? n : seq_checked_bytes));
    }
    std::span<const uint8_t> covered(p, header_size + length);
    return (flags & frame_flag_word_checksum) != 0 ? word_checksum(covered) : crc32(covered);
}

// A sequence-checked frame (README §1) at p, its trailer already checked: a `hits` frame whose
// records fill the payload exactly and carry consecutive seq numbers from first_seq.
bool seq_checked_records_ok(const uint8_t* p, uint16_t type, size_t length) {
    if (type != type_code(msg_type::hits) || length < seq_checked_bytes - header_size) {
        return false;
    }
    const uint8_t* fields = p + header_size;
    const uint64_t first_seq = get_le(fields, 8);
    const size_t count = get_le(fields + 8, 2);
    const size_t record_size = get_le(fields + 10, 2);
    if (record_size < 8 || length != 16 + count * record_size) {
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (get_le(fields + 16 + i * record_size, 8) != first_seq + i) {
            return false;
        }
    }
    return true;
}

size_t seal(std::span<uint8_t> out, uint16_t type, uint32_t request_id, size_t length,
            uint8_t flags = 0) {
    size_t total = header_size + length + trailer_size;
    if (length > max_payload || total > out.size()) {
        return 0;
    }
    uint8_t* p = out.data();
    for (size_t i = 0; i < frame_magic.size(); i++) {
        p[i] = frame_magic[i];
    }
    p[4] = protocol_version;
    p[5] = flags;
    put_le(p + 6, type, 2);
    put_le(p + 8, request_id, 4);
    put_le(p + 12, length, 4);
    put_le(p + header_size + length, trailer_of(p, length, flags), 4);
    return total;
}

} // namespace

frame_builder::frame_builder(std::span<uint8_t> out, uint16_t type, uint32_t request_id,
                             uint8_t flags)
    : out_(out), type_(type), request_id_(request_id), flags_(flags), payload_(payload_area(out)) {}

size_t frame_builder::finish() {
    if (!payload_.ok() || out_.size() < header_size + trailer_size) {
        return 0;
    }
    return seal(out_, type_, request_id_, payload_.size(), flags_);
}

size_t encode_frame(std::span<uint8_t> out, uint16_t type, uint32_t request_id,
                    std::span<const uint8_t> payload) {
    if (payload.size() > max_payload || out.size() < header_size + payload.size() + trailer_size) {
        return 0;
    }
    for (size_t i = 0; i < payload.size(); i++) {
        out[header_size + i] = payload[i];
    }
    return seal(out, type, request_id, payload.size());
}

const char* reject_reason_name(reject_reason r) {
    switch (r) {
    case reject_reason::bad_header:
        return "bad_header";
    case reject_reason::oversize:
        return "oversize";
    case reject_reason::bad_crc:
        return "bad_crc";
    case reject_reason::unknown_type:
        return "unknown_type";
    case reject_reason::short_payload:
        return "short_payload";
    }
    return "unknown";
}

size_t frame_decoder::feed(std::span<const uint8_t> input) {
    if (buf_.size() < max_frame) {
        return 0;
    }
    // Whole spans at a time (memmove, memcpy): the agent feeds every frame the host sends.
    if (begin_ > 0) {
        size_t n = end_ - begin_;
        if (n > 0) {
            __builtin_memmove(buf_.data(), buf_.data() + begin_, n);
        }
        begin_ = 0;
        end_ = n;
    }
    size_t room = buf_.size() - end_;
    size_t take = input.size() < room ? input.size() : room;
    if (take > 0) {
        __builtin_memcpy(buf_.data() + end_, input.data(), take);
    }
    end_ += take;
    return take;
}

void frame_decoder::reject(reject_reason r, size_t skip) {
    stats_.rejected[static_cast<size_t>(r)]++;
    begin_ += skip;
}

std::optional<frame> frame_decoder::next() {
    while (begin_ < end_) {
        const uint8_t* p = buf_.data() + begin_;
        size_t avail = end_ - begin_;

        // Line up the magic; a partial magic at the end of the input waits for more bytes.
        size_t check = avail < frame_magic.size() ? avail : frame_magic.size();
        bool magic = true;
        for (size_t i = 0; i < check; i++) {
            if (p[i] != frame_magic[i]) {
                magic = false;
                break;
            }
        }
        if (!magic) {
            stats_.garbage_bytes++;
            begin_++;
            continue;
        }
        if (avail < header_size) {
            return std::nullopt;
        }

        uint8_t version = p[4];
        uint8_t flags = p[5];
        auto type = static_cast<uint16_t>(get_le(p + 6, 2));
        auto request_id = static_cast<uint32_t>(get_le(p + 8, 4));
        auto length = static_cast<uint32_t>(get_le(p + 12, 4));
        constexpr uint8_t known_flags = frame_flag_word_checksum | frame_flag_seq_checked;
        if (version != protocol_version || (flags & ~known_flags) != 0 || flags == known_flags) {
            reject(reject_reason::bad_header, 1);
            continue;
        }
        if (length > max_payload) {
            reject(reject_reason::oversize, 1);
            continue;
        }
        size_t total = header_size + length + trailer_size;
        if (avail < total) {
            return std::nullopt;
        }
        auto trailer = static_cast<uint32_t>(get_le(p + header_size + length, 4));
        if (trailer != trailer_of(p, length, flags) ||
            ((flags & frame_flag_seq_checked) != 0 && !seq_checked_records_ok(p, type, length))) {
            reject(reject_reason::bad_crc, 1);
            continue;
        }
        // The frame is intact: from here on a refusal skips all of it.
        std::optional<size_t> fixed = fixed_payload_size(type);
        if (!fixed) {
            reject(reject_reason::unknown_type, total);
            continue;
        }
        if (length < *fixed) {
            reject(reject_reason::short_payload, total);
            continue;
        }
        begin_ += total;
        stats_.frames++;
        return frame{type, request_id, std::span<const uint8_t>(p + header_size, length)};
    }
    return std::nullopt;
}

} // namespace ruprobes::wire
