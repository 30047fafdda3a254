// The agent's lock (os_agent_lock, ruprobes/agent.h) for a scope: every agent file that touches
// state the hit sinks also touch takes it this way.
#pragma once

#include "ruprobes/agent.h"

namespace agent {

class agent_lock {
public:
    agent_lock() { os_agent_lock(); }
    ~agent_lock() { os_agent_unlock(); }
    agent_lock(const agent_lock&) = delete;
    agent_lock& operator=(const agent_lock&) = delete;
};

} // namespace agent
