// The agent's session with the host (protocol/README.md §5): hello, lease, boot id and the
// hit-record credit window.
#pragma once

#include <stdint.h>

struct agent_session {
    bool active = false;
    uint64_t session_id = 0;
    uint32_t capabilities = 0;
    uint32_t lease_ms = 0;
    uint64_t last_frame_ns = 0; // lease clock (the host's) at the last valid frame from the host
    bool ever = false;          // a session existed before (session_id is meaningful)
};

// The kernel's monotonic clock in ns (os_agent_time_ns).
uint64_t agent_time_ns();

// A value that differs on every boot (the kernel's clock and the host's wall clock, mixed).
uint64_t agent_boot_id();
