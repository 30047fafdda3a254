// Framing of JSON-RPC messages on a byte stream. Two framings exist and a connection uses one,
// detected from its first non-blank byte:
//   line            one JSON value per line, '\n'-terminated ("\r\n" accepted): nc, scripts
//   content_length  LSP-style headers ("Content-Length: N\r\n" ... "\r\n") then N bytes of
//                   JSON: what VS Code's vscode-jsonrpc speaks
// A message larger than the connection's limit is skipped (never buffered whole) and reported,
// so the server can answer with an error and keep the connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ruprobes::jsonrpc {

enum class framing { unknown, line, content_length };

// "line", "content_length" or "unknown".
const char* framing_name(framing f);

// What frame_reader::next() found.
struct frame_event {
    enum class kind {
        need_more, // no complete message buffered: feed more bytes
        message,   // `body` holds one message's JSON text
        oversized, // a message over the limit was skipped; `size` is its size (or a lower bound)
        bad_header // unreadable Content-Length header block: the stream cannot be resynchronised
    };
    kind what = kind::need_more;
    std::string body;
    std::size_t size = 0;
    std::string reason; // bad_header: what was wrong
};

class frame_reader {
public:
    // `max_message`: the largest message body accepted, in bytes.
    explicit frame_reader(std::size_t max_message);

    // Appends received bytes. Memory held stays bounded by about max_message + one read.
    void feed(std::string_view bytes);

    // The next event from the buffered bytes. After bad_header every call returns bad_header.
    frame_event next();

    // The framing detected so far (unknown until the first non-blank byte arrived).
    framing detected() const { return framing_; }
    std::size_t max_message() const { return max_message_; }
    // Bytes held (a partial message, or headers waiting for their body).
    std::size_t buffered() const { return buffer_.size(); }
    // True while a message has begun and is not complete (non-blank bytes are buffered, or the
    // rest of an oversized message is being skipped): the server's message deadline runs.
    bool partial() const {
        return skip_remaining_ > 0 || skip_to_newline_ ||
               buffer_.find_first_not_of(" \t\r\n") != std::string::npos;
    }

private:
    frame_event next_line();
    frame_event next_content_length();
    bool skip(); // drops pending skip bytes; true when done skipping

    std::size_t max_message_;
    framing framing_ = framing::unknown;
    std::string buffer_;
    std::size_t skip_remaining_ = 0; // content_length: body bytes of an oversized message left
    bool skip_to_newline_ = false;   // line: inside an oversized line
    std::size_t skipped_size_ = 0;   // line: bytes skipped of the current oversized line
    std::string failure_;            // non-empty after bad_header
};

// `body` framed for sending: body + "\n" for line (body must hold no raw newline; a JSON dump
// never does), headers + body for content_length; unknown is sent as line.
std::string encode_frame(framing f, std::string_view body);

} // namespace ruprobes::jsonrpc
