// Helpers shared by the agent's request handlers, and the handlers each file defines.
#pragma once

#include "agent/agent_internal.hpp"

#include "lib/string.hpp"
#include "proc/errno.hpp"
#include "proc/process.hpp"

namespace agent {

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
    return wire::bytes(reinterpret_cast<const uint8_t*>(s), kstrlen(s));
}

// The live user process `pid`, or nullptr.
inline process* user_process(uint32_t pid) {
    process* p = find_process(static_cast<int>(pid));
    if (p == nullptr || p->kernel_thread || p->state == process_state::zombie ||
        p->page_table == nullptr) {
        return nullptr;
    }
    return p;
}

inline int32_t status_of_errno(long r) {
    switch (-r) {
    case err::srch:
        return wire::status::no_such_process;
    case err::perm:
        return wire::status::permission_denied;
    case err::fault:
        return wire::status::bad_address;
    case err::noent:
        return wire::status::no_such_program;
    case err::inval:
        return wire::status::not_stopped;
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

// The thread a (pid, tid) request names: one thread per process, tid 0 or pid. Answers the
// request with an error and returns nullptr when there is none.
process* requested_thread(const wire::frame& f, uint32_t pid, uint32_t tid);

// probe_requests.cpp
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
