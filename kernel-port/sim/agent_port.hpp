// The simulated kernel's port of the agent library (ruprobes/agent.h): the byte-channel
// transport over socket_channel, the process-control hooks over the kernel's process table, and
// the agent run in poll mode from the kernel's main loop.
#pragma once

#include "sim_kernel.hpp"
#include "socket_channel.hpp"

namespace sim {

class agent_port {
public:
    // Starts the agent (ruprobes_agent_init with the byte channel) and hands it the kernel's
    // process events. One per kernel. Throws std::runtime_error when the agent does not start.
    // `harts` > 1: the agent is told the kernel has that many harts, and each trap is taken on
    // the next one in turn (os_agent_hart_id), so that a process's hit records spread over the
    // agent's per-hart rings and reach the host only through their merge.
    agent_port(kernel& k, socket_channel& channel, uint32_t harts = 1);
    ~agent_port();
    agent_port(const agent_port&) = delete;
    agent_port& operator=(const agent_port&) = delete;

    // Runs one round of the agent when it has work or its deadline passed.
    void poll_if_due();
    // Backpressure: while a host session is active and the hit ring is three quarters full
    // (ruprobes_agent_congested), no process runs: the agent alone serves the host until it has
    // acknowledged enough records, for at most 1 s per episode. A host that stops reading
    // then costs dropped (and counted) records, not a stalled kernel.
    void hold_while_congested();
    // Milliseconds until the agent wants its next round (0: now), at most `cap`.
    int due_in_ms(int cap) const;

private:
    process_listener listener_;
};

} // namespace sim
