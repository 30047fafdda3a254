// Simulation of one differential-test case with the engine, shared by the host test and the
// riscv64 harness: both run it, so the test also proves that the cross-compiled decoder and
// simulator compute exactly what the host build computes (compared through digest()).
#pragma once

#include "diff_format.hpp"

#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <cstring>

namespace ruprobes::diff {

// The case's memory: the window; every other address faults, like the harness's fault area
// (the generator only produces addresses in one of the two, or near 0 / the top of memory).
class window_memory final : public ruprobes::memory_port {
public:
    explicit window_memory(const uint8_t* init) { std::memcpy(bytes, init, window_size); }
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        if (!inside(addr, size))
            return false;
        out = 0;
        std::memcpy(&out, bytes + (addr - window_addr), size);
        return true;
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        if (!inside(addr, size))
            return false;
        std::memcpy(bytes + (addr - window_addr), &value, size);
        return true;
    }
    static bool inside(uint64_t addr, unsigned size) {
        return addr >= window_addr && addr - window_addr <= window_size - size;
    }
    uint8_t bytes[window_size];
};

// What simulate() made of a case.
struct sim_outcome {
    ruprobes::error status = ruprobes::error::ok;
    uint64_t next = 0;
    ruprobes::sim_fault fault;
    ruprobes::register_file regs;
    window_memory mem;

    explicit sim_outcome(const case_in& in) : mem(in.window) {
        std::memcpy(regs.x, in.regs, sizeof regs.x);
        regs.x[0] = 0;
    }
};

// Runs the case's instruction at insn_addr through the engine.
inline sim_outcome simulate_case(const case_in& in) {
    sim_outcome o(in);
    auto r = ruprobes::simulate(ruprobes::decode_bits(in.insn), insn_addr, o.regs, o.mem, &o.fault);
    if (r.ok())
        o.next = *r;
    else
        o.status = r.err();
    return o;
}

// FNV-1a over everything an outcome says (status, next pc, fault, x1..x31, memory window).
inline uint64_t digest(const sim_outcome& o) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 0x100000001b3ull;
        }
    };
    mix(static_cast<uint64_t>(o.status));
    mix(o.next);
    mix(o.fault.is_store ? 1 : 0);
    mix(o.fault.addr);
    for (int i = 1; i < 32; ++i)
        mix(o.regs.x[i]);
    for (unsigned i = 0; i < window_size; ++i)
        mix(o.mem.bytes[i]);
    return h;
}

} // namespace ruprobes::diff
