#include "ruprobes/rsp/framer.hpp"

#include "hex.hpp"

namespace ruprobes::rsp {
using detail::hex_chars;
using detail::hex_digit;

const char* frame_kind_name(frame_kind kind) {
    switch (kind) {
    case frame_kind::packet:
        return "packet";
    case frame_kind::ack:
        return "ack";
    case frame_kind::nak:
        return "nak";
    case frame_kind::interrupt:
        return "interrupt";
    case frame_kind::bad_checksum:
        return "bad_checksum";
    case frame_kind::oversize:
        return "oversize";
    case frame_kind::malformed:
        return "malformed";
    }
    return "unknown";
}

framer::framer(size_t max_packet) : max_packet_(max_packet) {}

void framer::feed(std::string_view bytes, std::vector<frame>& out) {
    for (char c : bytes) {
        switch (state_) {
        case state::idle:
            if (c == '$') {
                state_ = state::payload;
                raw_.clear();
                sum_ = 0;
                oversize_ = false;
                bad_digit_ = false;
            } else if (c == '+') {
                out.push_back({frame_kind::ack, {}});
            } else if (c == '-') {
                out.push_back({frame_kind::nak, {}});
            } else if (c == '\x03') {
                out.push_back({frame_kind::interrupt, {}});
            } else {
                ignored_++;
            }
            break;
        case state::payload:
            if (c == '#') {
                state_ = state::checksum_hi;
            } else if (c == '$') {
                // The packet before was cut short: count it as noise and start again.
                ignored_ += raw_.size() + 1;
                raw_.clear();
                sum_ = 0;
                oversize_ = false;
            } else {
                sum_ = static_cast<uint8_t>(sum_ + static_cast<uint8_t>(c));
                if (raw_.size() < max_packet_)
                    raw_.push_back(c);
                else
                    oversize_ = true;
            }
            break;
        case state::checksum_hi: {
            int d = hex_digit(c);
            bad_digit_ = d < 0;
            wanted_ = static_cast<uint8_t>((d < 0 ? 0 : d) << 4);
            state_ = state::checksum_lo;
            break;
        }
        case state::checksum_lo: {
            int d = hex_digit(c);
            bad_digit_ = bad_digit_ || d < 0;
            wanted_ = static_cast<uint8_t>(wanted_ | (d < 0 ? 0 : d));
            finish(out);
            state_ = state::idle;
            break;
        }
        }
    }
}

void framer::finish(std::vector<frame>& out) {
    if (oversize_) {
        out.push_back({frame_kind::oversize, {}});
    } else if (bad_digit_) {
        out.push_back({frame_kind::malformed, "checksum is not two hex digits"});
    } else if (wanted_ != sum_) {
        out.push_back({frame_kind::bad_checksum, {}});
    } else {
        frame f;
        std::string why;
        if (decode_payload(raw_, f.payload, why)) {
            f.kind = frame_kind::packet;
        } else {
            f.kind = frame_kind::malformed;
            f.payload = why;
        }
        out.push_back(std::move(f));
    }
    raw_.clear();
}

bool decode_payload(std::string_view raw, std::string& out, std::string& why) {
    out.clear();
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); i++) {
        char c = raw[i];
        if (c == '}') {
            if (i + 1 >= raw.size()) {
                why = "escape '}' at the end of the packet";
                return false;
            }
            out.push_back(static_cast<char>(raw[++i] ^ 0x20));
        } else if (c == '*') {
            if (out.empty() || i + 1 >= raw.size()) {
                why = "run-length '*' without a character to repeat or a count";
                return false;
            }
            int n = static_cast<uint8_t>(raw[++i]) - 29;
            if (n < 0) {
                why = "run-length count below 0";
                return false;
            }
            out.append(static_cast<size_t>(n), out.back());
        } else {
            out.push_back(c);
        }
    }
    return true;
}

std::string escape_binary(std::string_view data) {
    std::string out;
    out.reserve(data.size() + data.size() / 16);
    for (char c : data) {
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            out.push_back('}');
            out.push_back(static_cast<char>(c ^ 0x20));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string checksum_hex(std::string_view raw) {
    uint8_t sum = 0;
    for (char c : raw)
        sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
    return {hex_chars[sum >> 4], hex_chars[sum & 15]};
}

std::string encode_packet(std::string_view payload, bool rle) {
    std::string body = escape_binary(payload);
    if (rle) {
        // A run of c repeated k+1 times becomes "c*" + char(29 + k) for k in 3..97, skipping
        // counts whose character would be '#', '$', '+' or '-' (GDB manual E.1: 6 and 7 repeats
        // are sent as shorter runs). Never run-length an escaped byte pair.
        std::string out;
        out.reserve(body.size());
        size_t i = 0;
        while (i < body.size()) {
            char c = body[i];
            size_t run = 1;
            if (c != '}' && (i == 0 || body[i - 1] != '}')) {
                while (i + run < body.size() && body[i + run] == c && run < 98)
                    run++;
            }
            size_t extra = run - 1;
            while (extra > 0) {
                char count = static_cast<char>(29 + extra);
                bool legal = extra >= 3 && count != '#' && count != '$' && count != '+' &&
                             count != '-' && count != '*' && count != '}';
                if (legal)
                    break;
                extra--;
            }
            out.push_back(c);
            if (extra >= 3) {
                out.push_back('*');
                out.push_back(static_cast<char>(29 + extra));
                i += extra + 1;
            } else {
                i += 1;
            }
        }
        body = std::move(out);
    }
    std::string packet;
    packet.reserve(body.size() + 4);
    packet.push_back('$');
    packet += body;
    packet.push_back('#');
    packet += checksum_hex(body);
    return packet;
}

} // namespace ruprobes::rsp
