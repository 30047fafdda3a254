// The reference kernel's port of the engine. Until the engine's port interface exists these are
// the neutral hooks: no probes, every ebreak is the program's own.
#include "port/kernel_hooks.hpp"

bool port_init() {
    return true;
}

void port_process_exec_hook(process*) {}

void port_process_fork_hook(process*, process*) {}

void port_process_exit_hook(process*) {}

bool port_user_breakpoint(process*, trap_frame&) {
    return false;
}
