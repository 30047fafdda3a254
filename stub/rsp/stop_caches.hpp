// Two small caches that cut round trips to the kernel while gdb looks at a stopped process
// (gdb reads the same few bytes of text many times per stop, and removes and re-inserts every
// breakpoint around each resume).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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

// Breakpoints gdb removed but that stay armed in the kernel for one more resume: gdb removes
// every breakpoint when the process stops and inserts them again before it resumes (and steps
// over the one under pc with a temporary breakpoint on the next instruction), so most removals
// are undone right away. A removal that is not undone by the second resume is carried out then.
// A thread stopping on a breakpoint gdb believes removed is resumed by the session unseen.
class lazy_removals {
public:
    // gdb removed the breakpoint at `addr`.
    void removed(uint64_t addr) { pending_[addr] = 0; }
    // gdb inserts at `addr` again: true when it was still armed (nothing to do in the kernel).
    bool reinserted(uint64_t addr) { return pending_.erase(addr) != 0; }
    // True when gdb believes there is no breakpoint at `addr` although it is still armed.
    bool pending(uint64_t addr) const { return pending_.contains(addr); }
    // Called before each resume: the removals to carry out now (pending since the previous
    // resume); the others age by one resume.
    std::vector<uint64_t> due();
    void clear() { pending_.clear(); }

private:
    std::map<uint64_t, int> pending_; // address -> resumes seen while pending
};

} // namespace ruprobes::rsp
