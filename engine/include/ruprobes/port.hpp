// The engine's view of the port: the C hooks a kernel defines (declared in ruprobes.h, contracts
// there and in engine/README.md) wrapped for C++, plus the memory_port the simulator uses to
// reach the interrupted thread's memory.
#pragma once

#include "ruprobes/base.hpp"
#include "ruprobes/ruprobes.h"
#include "ruprobes/simulate.hpp"

namespace ruprobes {

// Breakpoint encodings (Unprivileged ISA v20191213): EBREAK is SYSTEM with imm=1 (ch. 2.8),
// C.EBREAK is 0x9002 (ch. 16.5, "C.EBREAK shares the opcode with C.ADD").
inline constexpr uint32_t ebreak_bits = 0x00100073u;
inline constexpr uint16_t c_ebreak_bits = 0x9002u;

// The breakpoint that covers an instruction of `length` bytes (2 or 4), little-endian.
inline uint32_t breakpoint_for(uint8_t length) {
    return length == 2 ? c_ebreak_bits : ebreak_bits;
}

// Reads a little-endian value of `length` (2 or 4) bytes from `p`.
inline uint32_t load_le(const uint8_t* p, uint8_t length) {
    uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8;
    if (length == 4)
        v |= static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    return v;
}

// Writes the low `length` (2, 4 or 8) bytes of `v` little-endian to `p`.
inline void store_le(uint8_t* p, uint64_t v, unsigned length) {
    for (unsigned i = 0; i < length; i++)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The engine's lock, held for the lifetime of the guard.
class port_lock_guard {
public:
    port_lock_guard() { os_uprobes_lock(); }
    ~port_lock_guard() { os_uprobes_unlock(); }
    port_lock_guard(const port_lock_guard&) = delete;
    port_lock_guard& operator=(const port_lock_guard&) = delete;
};

// Writes `length` bytes of `value` (little-endian) into process `pid`'s text at `addr` through
// os_text_poke and flushes the icache for them. Fails with port_failure.
inline result<void> poke_text(uint32_t pid, uint64_t addr, uint64_t value, unsigned length) {
    uint8_t bytes[8];
    store_le(bytes, value, length);
    if (os_text_poke(pid, addr, bytes, length) != 0)
        return error::port_failure;
    os_icache_flush(pid, addr, length);
    return {};
}

// Reads `length` (2 or 4) bytes of process `pid` at `addr` as a little-endian value.
inline result<uint32_t> peek_text(uint32_t pid, uint64_t addr, uint8_t length) {
    uint8_t bytes[4] = {};
    if (os_copy_from_user(pid, bytes, addr, length) != 0)
        return error::fault_fetch;
    return load_le(bytes, length);
}

// The simulator's memory: the user address space of process `pid`, through the copy hooks.
// Both hooks are all-or-nothing by contract, which the simulator requires.
class user_memory final : public memory_port {
public:
    explicit user_memory(uint32_t pid) : pid_(pid) {}

    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        uint8_t bytes[8] = {};
        out = 0;
        if (size > 8 || os_copy_from_user(pid_, bytes, addr, size) != 0)
            return false;
        for (unsigned i = 0; i < size; i++)
            out |= static_cast<uint64_t>(bytes[i]) << (8 * i);
        return true;
    }

    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        uint8_t bytes[8];
        if (size > 8)
            return false;
        store_le(bytes, value, size);
        return os_copy_to_user(pid_, addr, bytes, size) == 0;
    }

private:
    uint32_t pid_;
};

} // namespace ruprobes
