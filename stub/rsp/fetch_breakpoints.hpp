// Breakpoints at mapped user addresses outside program text (gdb's return address for an
// inferior call sits on the stack). They cannot be uprobes: the page is not executable, so
// arriving there is an instruction fetch fault, which the kernel reports as a SIGSEGV stop of
// the debugged process at that pc. The session reports that stop as the breakpoint instead.
#pragma once

#include "target_model/target_types.hpp"

#include <cstdint>
#include <set>

namespace ruprobes::rsp {

class fetch_breakpoints {
public:
    void insert(uint64_t addr) { addrs_.insert(addr); }
    // True when `addr` was one (and is now gone).
    bool remove(uint64_t addr) { return addrs_.erase(addr) != 0; }
    bool contains(uint64_t addr) const { return addrs_.contains(addr); }
    void clear() { addrs_.clear(); }

    // A fault stop at one of them becomes a software-breakpoint stop (T05 swbreak): gdb arrived
    // where it asked to stop. Any other stop is returned as it is.
    target::stop_event as_reported(const target::stop_event& stop) const;

private:
    std::set<uint64_t> addrs_;
};

} // namespace ruprobes::rsp
