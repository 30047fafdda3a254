// The host agent: serves the wire protocol (protocol/README.md) over the virtio console. It runs
// as the kernel thread "agent", woken by the console's receive interrupt and by a periodic
// deadline (to drain hit records and check the host's lease).
#pragma once

#include <stdint.h>

// Finds the virtio console, registers its PLIC interrupt and starts the agent thread. Does
// nothing (and returns false) when the machine has no console. Called once from devices_init().
bool agent_start();

// True once agent_start() found a console.
bool agent_running();

// True while a host session is active (a hello was answered and the lease holds).
bool agent_host_connected();
// Hit records in the ring not sent yet, and records dropped since boot (the ring was full).
uint32_t agent_hits_unsent();
uint64_t agent_hits_dropped();
