#include "rsp/fetch_breakpoints.hpp"

namespace ruprobes::rsp {

target::stop_event fetch_breakpoints::as_reported(const target::stop_event& stop) const {
    if (stop.reason != target::stop_reason::signal || stop.signal != target::gdb_signal::sigsegv ||
        !contains(stop.regs.pc))
        return stop;
    target::stop_event reported = stop;
    reported.reason = target::stop_reason::breakpoint;
    reported.signal = target::gdb_signal::sigtrap;
    return reported;
}

} // namespace ruprobes::rsp
