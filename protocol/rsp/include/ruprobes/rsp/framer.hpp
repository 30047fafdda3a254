// GDB Remote Serial Protocol, connection layer, bytes side: turns the byte stream from a client
// into frames (packets, acks, the raw interrupt byte) and payloads into `$…#xx` packets.
//
// GDB manual, appendix E.1 "Overview": a packet is `$payload#xx` where xx is the two-hex-digit
// modulo-256 sum of the payload bytes as sent; `}` escapes the next byte (sent xor 0x20) and must
// be used for `#`, `$`, `}` and `*` in binary data; `X*n` is run-length encoding (X repeated
// n - 29 more times); `+` / `-` acknowledge; a lone 0x03 byte is an interrupt request.
// Pure code (no I/O), so it is fuzzed and unit-tested on scripted byte streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ruprobes::rsp {

enum class frame_kind {
    packet,       // a complete packet with a correct checksum; `payload` is decoded
    ack,          // '+'
    nak,          // '-': resend the last packet
    interrupt,    // 0x03 outside a packet
    bad_checksum, // a complete packet whose checksum is wrong (answer '-' in ack mode)
    oversize,     // a packet longer than the limit: dropped, the stream stays in sync
    malformed,    // `*` with nothing to repeat, a `}` at the end, bad checksum digits…
};

struct frame {
    frame_kind kind = frame_kind::packet;
    std::string payload; // packet: unescaped and RLE-expanded; malformed: why
};

const char* frame_kind_name(frame_kind kind);

class framer {
public:
    static constexpr size_t default_max_packet = 16 * 1024;

    // `max_packet`: longest payload (as sent, before decoding) that is accepted.
    explicit framer(size_t max_packet = default_max_packet);

    // Consumes `bytes` (any split of the stream) and appends every frame completed by them to
    // `out`. Bytes outside packets other than '+', '-', 0x03 are ignored (line noise); a '$'
    // inside a packet restarts the packet (the earlier one was cut short).
    void feed(std::string_view bytes, std::vector<frame>& out);

    // Bytes of noise ignored so far (for logs).
    uint64_t ignored_bytes() const { return ignored_; }
    // True between a '$' and the end of its checksum.
    bool in_packet() const { return state_ != state::idle; }

private:
    enum class state { idle, payload, checksum_hi, checksum_lo };

    void finish(std::vector<frame>& out);

    size_t max_packet_;
    state state_ = state::idle;
    std::string raw_;
    uint8_t sum_ = 0;
    uint8_t wanted_ = 0;
    bool oversize_ = false;
    bool bad_digit_ = false;
    uint64_t ignored_ = 0;
};

// Decodes a payload as sent: `}` escapes and `*` run lengths. False (and `why`) when it is not
// well formed.
bool decode_payload(std::string_view raw, std::string& out, std::string& why);

// Escapes the bytes of binary data that cannot appear raw in a packet (`#`, `$`, `}`, `*`).
std::string escape_binary(std::string_view data);

// `$payload#xx` with the payload escaped as binary-safe (escape_binary) and, with `rle`, runs of
// 4 or more equal characters run-length encoded where the count character is legal.
std::string encode_packet(std::string_view payload, bool rle = false);

// Two lower-case hex digits of the modulo-256 sum of `raw`.
std::string checksum_hex(std::string_view raw);

} // namespace ruprobes::rsp
