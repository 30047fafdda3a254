// The limits every client connection lives under, on both the RSP and the JSON-RPC port
// (documented in stub/daemon/README.md; the daemon's flags set them).
#pragma once

#include <chrono>
#include <cstddef>

namespace ruprobes::session {

struct session_limits {
    // A write that makes no progress this long: the client stopped reading; it is dropped.
    std::chrono::milliseconds write_timeout{30000};
    // A connection that holds nothing (no process, no subscription, no call running, no partial
    // message) and sends nothing this long is dropped.
    std::chrono::milliseconds idle_timeout{300000};
    // A message (an RSP packet, a JSON-RPC message) begun but not finished this long: dropped.
    std::chrono::milliseconds message_timeout{10000};
    // Bytes queued for one client. The RSP side drops a client past it; the JSON-RPC side stops
    // reading that client's requests until it reads its replies.
    std::size_t max_output = 1 << 20;
    // Connections per port. A new connection past the cap replaces the longest-idle connection
    // that holds nothing, or is closed when every connection holds something.
    std::size_t max_connections = 256;
};

} // namespace ruprobes::session
