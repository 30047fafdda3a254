// The trap result the engine reports to the kernel (uprobes_trap_info), shared by the hit path
// and the resume path.
#pragma once

#include "ruprobes/engine.hpp"

namespace ruprobes {

// Fills `info` (when given) with the action and, for a fault or a stop, its error, address and
// probe.
inline void set_info(uprobes_trap_info* info, int action, error e = error::ok, uint64_t addr = 0,
                     uint32_t probe = 0) {
    if (info == nullptr)
        return;
    info->action = action;
    info->error = static_cast<int32_t>(e);
    info->fault_addr = addr;
    info->probe_id = probe;
    info->reserved = 0;
}

} // namespace ruprobes
