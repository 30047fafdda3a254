// What a JSON-RPC method sees of the connection that called it (no Asio here).
#pragma once

#include "events/event_hub.hpp"
#include "ruprobes/jsonrpc/dispatcher.hpp"

#include <cstdint>

namespace ruprobes::rpc {

struct session_context : jsonrpc::call_context {
    // This connection's event subscriber (attached to the hub on first use).
    virtual events::subscriber& subscriber() = 0;
    virtual uint64_t session_id() const = 0;
};

} // namespace ruprobes::rpc
