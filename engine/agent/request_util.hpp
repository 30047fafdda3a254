// Helpers shared by the agent's request handlers, and the handlers each file defines.
#pragma once

#include "agent/agent_internal.hpp"

#include "ruprobes/ruprobes.h"

namespace agent {

// The first slot of `slots` not in use, or nullptr when all are.
template <class T, size_t N>
T* first_unused(T (&slots)[N]) {
    for (T& slot : slots) {
        if (!slot.used) {
            return &slot;
        }
    }
    return nullptr;
}

// Copies a wire string into a NUL-terminated buffer; false when it does not fit.
inline bool copy_string(wire::bytes from, char* to, size_t size) {
    if (from.size() + 1 > size) {
        return false;
    }
    for (size_t i = 0; i < from.size(); i++) {
        if (from[i] == 0) {
            return false;
        }
        to[i] = static_cast<char>(from[i]);
    }
    to[from.size()] = 0;
    return true;
}

inline wire::bytes as_bytes(const char* s) {
    return wire::bytes(reinterpret_cast<const uint8_t*>(s), str_length(s));
}

// The wire status of a process-control hook's negative result (an enum ruprobes_agent_error).
inline int32_t status_of_hook(int r) {
    switch (-r) {
    case RUPROBES_AGENT_E_NO_SUCH_PROCESS:
    case RUPROBES_AGENT_E_NO_SUCH_THREAD:
    case RUPROBES_AGENT_E_NOT_STOPPED:
    case RUPROBES_AGENT_E_PERMISSION_DENIED:
    case RUPROBES_AGENT_E_BAD_ADDRESS:
    case RUPROBES_AGENT_E_NO_SUCH_PROGRAM:
        return -r;
    default:
        return wire::status::busy;
    }
}

// Decodes the request or answers `malformed`.
template <typename M>
bool parse(const wire::frame& f, M& out) {
    auto r = wire::decode<M>(f);
    if (!r.ok()) {
        reply_status(f, wire::status::malformed);
        return false;
    }
    out = *r;
    return true;
}

// The thread a (pid, tid) request names (tid 0: the process's first thread) in *out. Answers the
// request with an error and returns false when there is none.
bool requested_thread(const wire::frame& f, uint32_t pid, uint32_t tid, uint32_t* out);

// probe_requests.cpp
// What add_probe needs of a probe_add or aggregation_add request.
struct probe_params {
    uint32_t pid = 0;
    uint8_t kind = 0;
    uint8_t mode = 0; // wire::probe_mode
    uint64_t address = 0;
    wire::bytes path;
    wire::bytes condition;
    uint64_t cookie = 0;
    // A handler run at each hit (tracepoints, fetching probes), with `handler_user`; after the
    // condition, when there is one.
    uprobes_handler_fn handler = nullptr;
    void* handler_user = nullptr;
};
uint32_t add_probe(const wire::frame& f, const probe_params& p);

void probe_add(const wire::frame& f);
void probe_remove(const wire::frame& f);
void probe_list(const wire::frame& f);
void channel_test(const wire::frame& f);

// process_requests.cpp
void process_list(const wire::frame& f);
void process_spawn_request(const wire::frame& f);
void process_kill_request(const wire::frame& f);
void thread_list(const wire::frame& f);
void thread_stop_request(const wire::frame& f);
void thread_resume_request(const wire::frame& f);
void thread_step_request(const wire::frame& f);

} // namespace agent
