// Two small caches that cut round trips to the kernel while gdb looks at a stopped process
// (gdb reads the same few bytes of text many times per stop, and removes and re-inserts every
// breakpoint around each resume).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace ruprobes::rsp {

// Memory of the debugged process read while it is stopped, in aligned blocks. Valid only until
// the process runs again or the debugger writes memory: the session clears it then.
class memory_cache {
public:
    static constexpr uint64_t block_size = 128;

    static uint64_t block_of(uint64_t addr) { return addr & ~(block_size - 1); }

    // The bytes [addr, addr + len) when every block they touch is cached.
    std::optional<std::vector<uint8_t>> lookup(uint64_t addr, uint64_t len) const;
    // Remembers one block (`bytes.size() == block_size`, `block` aligned).
    void store(uint64_t block, std::vector<uint8_t> bytes);
    void clear() { blocks_.clear(); }
    size_t blocks() const { return blocks_.size(); }

private:
    std::map<uint64_t, std::vector<uint8_t>> blocks_;
};

// Breakpoints gdb removed while its process is stopped, not yet removed in the kernel. gdb
// removes every breakpoint when the process stops and inserts them again before it resumes
// (stepping over the one under pc first), so most removals are undone right away. A removal is
// carried out before the process runs freely; a single step runs one instruction and cannot
// reach another breakpoint (stepping from a breakpoint looks through it), so it waits. A deleted
// breakpoint is never armed while a thread of the process runs, and the probes are the process's
// own: no other client sees the difference.
class deferred_removals {
public:
    // gdb removed the breakpoint at `addr`.
    void removed(uint64_t addr) { pending_.insert(addr); }
    // gdb inserts at `addr` again: true when its removal was pending (nothing to do in the kernel).
    bool reinserted(uint64_t addr) { return pending_.erase(addr) != 0; }
    bool pending(uint64_t addr) const { return pending_.contains(addr); }
    // Called before each resume: the removals to carry out now (all of them, unless the resume
    // only single-steps).
    std::vector<uint64_t> due(bool single_step);
    void clear() { pending_.clear(); }

private:
    std::set<uint64_t> pending_;
};

} // namespace ruprobes::rsp
