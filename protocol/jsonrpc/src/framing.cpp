// Byte stream → JSON-RPC message texts, for both framings (see framing.hpp).
#include "ruprobes/jsonrpc/framing.hpp"

#include <cctype>
#include <cstdint>

namespace ruprobes::jsonrpc {

namespace {

// A header block longer than this is not LSP framing gone slightly wrong but garbage.
constexpr std::size_t max_header_block = 8192;

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back()))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); i++) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

// Parses a decimal Content-Length value; false on anything but 1..18 digits.
bool parse_length(std::string_view s, std::size_t& out) {
    if (s.empty() || s.size() > 18)
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = static_cast<std::size_t>(v);
    return true;
}

} // namespace

const char* framing_name(framing f) {
    switch (f) {
    case framing::line:
        return "line";
    case framing::content_length:
        return "content_length";
    case framing::unknown:
        break;
    }
    return "unknown";
}

frame_reader::frame_reader(std::size_t max_message) : max_message_(max_message) {}

void frame_reader::feed(std::string_view bytes) {
    buffer_.append(bytes);
}

frame_event frame_reader::next() {
    if (!failure_.empty()) {
        frame_event e;
        e.what = frame_event::kind::bad_header;
        e.reason = failure_;
        return e;
    }
    if (framing_ == framing::unknown) {
        std::size_t i = 0;
        while (i < buffer_.size() && is_blank(buffer_[i]))
            i++;
        buffer_.erase(0, i);
        if (buffer_.empty())
            return {};
        // A header block starts with a header name; a JSON text never starts with a letter.
        framing_ = std::isalpha(static_cast<unsigned char>(buffer_[0])) ? framing::content_length
                                                                        : framing::line;
    }
    return framing_ == framing::line ? next_line() : next_content_length();
}

bool frame_reader::skip() {
    if (skip_remaining_ > 0) {
        std::size_t n = skip_remaining_ < buffer_.size() ? skip_remaining_ : buffer_.size();
        buffer_.erase(0, n);
        skip_remaining_ -= n;
        return skip_remaining_ == 0;
    }
    if (skip_to_newline_) {
        std::size_t nl = buffer_.find('\n');
        if (nl == std::string::npos) {
            skipped_size_ += buffer_.size();
            buffer_.clear();
            return false;
        }
        buffer_.erase(0, nl + 1);
        skip_to_newline_ = false;
        skipped_size_ = 0;
    }
    return true;
}

frame_event frame_reader::next_line() {
    if (!skip())
        return {};
    std::size_t start = 0;
    frame_event e;
    for (;;) {
        std::size_t nl = buffer_.find('\n', start);
        if (nl == std::string::npos) {
            buffer_.erase(0, start);
            // +1: room for the '\r' of a "\r\n" line end that has not arrived yet.
            if (buffer_.size() > max_message_ + 1) {
                e.what = frame_event::kind::oversized;
                e.size = buffer_.size();
                skip_to_newline_ = true;
                skipped_size_ = buffer_.size();
                buffer_.clear();
            }
            return e;
        }
        std::string_view line(buffer_.data() + start, nl - start);
        start = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (trim(line).empty())
            continue;
        if (line.size() > max_message_) {
            e.what = frame_event::kind::oversized;
            e.size = line.size();
        } else {
            e.what = frame_event::kind::message;
            e.body.assign(line);
        }
        buffer_.erase(0, start);
        return e;
    }
}

frame_event frame_reader::next_content_length() {
    if (!skip())
        return {};
    // Blank bytes between messages are tolerated.
    std::size_t start = 0;
    while (start < buffer_.size() && is_blank(buffer_[start]))
        start++;
    buffer_.erase(0, start);

    std::size_t pos = 0;
    bool have_length = false;
    std::size_t length = 0;
    frame_event e;
    for (;;) {
        std::size_t nl = buffer_.find('\n', pos);
        if (nl == std::string::npos) {
            if (buffer_.size() > max_header_block) {
                failure_ = "header block longer than 8192 bytes";
                e.what = frame_event::kind::bad_header;
                e.reason = failure_;
            }
            return e;
        }
        if (nl + 1 > max_header_block) {
            failure_ = "header block longer than 8192 bytes";
            e.what = frame_event::kind::bad_header;
            e.reason = failure_;
            return e;
        }
        std::string_view line(buffer_.data() + pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            break; // end of the header block
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            failure_ = "header line without ':'";
            e.what = frame_event::kind::bad_header;
            e.reason = failure_;
            return e;
        }
        std::string_view name = trim(line.substr(0, colon));
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) {
            if (!parse_length(value, length)) {
                failure_ = "Content-Length is not a decimal number";
                e.what = frame_event::kind::bad_header;
                e.reason = failure_;
                return e;
            }
            have_length = true;
        }
        // Other headers (Content-Type) carry nothing we need.
    }
    if (!have_length) {
        failure_ = "header block without Content-Length";
        e.what = frame_event::kind::bad_header;
        e.reason = failure_;
        return e;
    }
    if (length > max_message_) {
        buffer_.erase(0, pos);
        skip_remaining_ = length;
        skip();
        e.what = frame_event::kind::oversized;
        e.size = length;
        return e;
    }
    if (buffer_.size() - pos < length)
        return e; // headers are parsed again when the body is complete
    e.what = frame_event::kind::message;
    e.body.assign(buffer_, pos, length);
    buffer_.erase(0, pos + length);
    return e;
}

std::string encode_frame(framing f, std::string_view body) {
    std::string out;
    if (f == framing::content_length) {
        out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        out.append(body);
    } else {
        out.reserve(body.size() + 1);
        out.append(body);
        out.push_back('\n');
    }
    return out;
}

} // namespace ruprobes::jsonrpc
