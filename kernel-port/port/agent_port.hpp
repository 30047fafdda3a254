// The reference kernel's port of the agent (libruprobes_agent.a, ruprobes/agent.h): what the rest
// of the kernel calls.
#pragma once

// True once devices_init() found a virtio console and started the agent thread.
bool agent_port_running();
