// Messages (messages.hpp) to frames and back. Freestanding: no allocation, no exceptions; decoded
// variable fields are spans into the frame's payload.
//
//   std::array<uint8_t, max_frame> buf;
//   size_t n = wire::encode(buf, request_id, wire::ping_request{.cookie = 7});
//   ...
//   if (auto r = wire::decode<wire::ping_response>(f)) use(r->cookie);
#pragma once

#include <optional>

#include "ruprobes/wire/frame.hpp"
#include "ruprobes/wire/messages.hpp"

namespace ruprobes::wire {

// Appends the fields of `m` to `w` (for a frame's head or for list entries / hit records).
template <typename M>
void write_fields(byte_writer& w, const M& m) {
    M::io(m, w);
}

// Encodes `m` as one frame of type M::code into `out`. Returns the frame size, or 0 when it does
// not fit in `out` or in max_payload.
template <typename M>
size_t encode(std::span<uint8_t> out, uint32_t request_id, const M& m) {
    frame_builder builder(out, M::code, request_id);
    M::io(m, builder.payload());
    return builder.finish();
}

// Encodes a response carrying only `status` to the request of type `request_type`.
size_t encode_status(std::span<uint8_t> out, uint16_t request_type, uint32_t request_id,
                     int32_t status);

// Parses the fields of M from the start of `payload`; `used` (if given) receives the bytes read.
// Fails with error::invalid_argument when the payload is too short for them.
template <typename M>
result<M> decode_fields(bytes payload, size_t* used = nullptr) {
    byte_reader r(payload);
    M m{};
    M::io(m, r);
    if (!r.ok()) {
        return error::invalid_argument;
    }
    if (used) {
        *used = r.position();
    }
    return m;
}

// Decodes frame `f` as message M. Fails with error::invalid_argument when the type is not M's
// or the payload is malformed (a variable field runs past the end).
template <typename M>
result<M> decode(const frame& f, size_t* used = nullptr) {
    if (f.type != M::code) {
        return error::invalid_argument;
    }
    return decode_fields<M>(f.payload, used);
}

// Reads `count` entries of type E (list entries, hit records) that follow a message's head.
// `stride` 0: entries are packed back to back (variable size); else each takes `stride` bytes
// (hit records: the frame's record_size, so later versions may append fields).
template <typename E>
class entry_reader {
public:
    entry_reader(bytes rest, uint32_t count, size_t stride = 0)
        : rest_(rest), left_(count), stride_(stride) {}

    // The next entry; nothing after the last one or when the payload is malformed (failed()).
    std::optional<E> next() {
        if (left_ == 0 || failed_) {
            return std::nullopt;
        }
        bytes window = rest_;
        if (stride_ != 0) {
            if (stride_ > rest_.size()) {
                failed_ = true;
                return std::nullopt;
            }
            window = rest_.first(stride_);
        }
        size_t used = 0;
        result<E> e = decode_fields<E>(window, &used);
        if (!e.ok()) {
            failed_ = true;
            return std::nullopt;
        }
        rest_ = rest_.subspan(stride_ != 0 ? stride_ : used);
        left_--;
        return *e;
    }
    bool failed() const { return failed_; }

private:
    bytes rest_;
    uint32_t left_;
    size_t stride_;
    bool failed_ = false;
};

} // namespace ruprobes::wire
