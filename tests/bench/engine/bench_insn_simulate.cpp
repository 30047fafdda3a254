// Host benchmark of the engine's decoder and simulator: nanoseconds per decode() and per
// simulate() for each instruction family, and simulate's cost relative to decode's, measured in
// one run (the hit path does one of each per simulated probe hit).
//
//   build/bin/bench_insn_simulate [iterations]
#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr uint64_t mem_base = 0x80000;

class flat_memory final : public ruprobes::memory_port {
public:
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        if (addr < mem_base || addr - mem_base > sizeof bytes - size)
            return false;
        out = 0;
        std::memcpy(&out, bytes + (addr - mem_base), size);
        return true;
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        if (addr < mem_base || addr - mem_base > sizeof bytes - size)
            return false;
        std::memcpy(bytes + (addr - mem_base), &value, size);
        return true;
    }
    uint8_t bytes[256] = {};
};

struct family {
    const char* name;
    uint32_t bits;
};

constexpr family families[] = {
    {"addi (ALU)", 0x00150513}, {"c.addi (C ALU)", 0x0505}, {"mul", 0x02c58533},
    {"div", 0x02c5c533},        {"ld", 0x0085b503},         {"c.sdsp", 0xe02a},
    {"beq", 0x00b50463},        {"jal", 0x008000ef},        {"jalr", 0x000580e7},
    {"auipc", 0x00000517},
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
    const long iterations = argc > 1 ? std::atol(argv[1]) : 2000000;
    flat_memory mem;
    volatile uint64_t sink = 0;
    std::printf("%-16s %12s %12s %10s\n", "instruction", "decode ns", "simulate ns", "sim/dec");
    for (const family& f : families) {
        uint8_t bytes[4];
        for (int i = 0; i < 4; i++)
            bytes[i] = static_cast<uint8_t>(f.bits >> (8 * i));

        auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; i++) {
            auto d = ruprobes::decode(bytes, 4);
            sink = sink + d->raw;
        }
        const double dec = seconds_since(t0) * 1e9 / static_cast<double>(iterations);

        const ruprobes::decoded_insn d = ruprobes::decode_bits(f.bits);
        ruprobes::register_file regs;
        for (unsigned r = 1; r < 32; r++)
            regs.x[r] = mem_base + 8 * (r % 16);
        t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; i++) {
            regs.x[12] = static_cast<uint64_t>(i) | 1; // a2: a fresh, non-zero divisor
            auto next = ruprobes::simulate(d, 0x10000, regs, mem);
            sink = sink + *next;
            regs.x[10] = mem_base + 8; // a0 and a1 stay valid bases
            regs.x[11] = mem_base + 16;
            regs.x[2] = mem_base + 64;
        }
        const double sim = seconds_since(t0) * 1e9 / static_cast<double>(iterations);
        std::printf("%-16s %12.2f %12.2f %10.2f\n", f.name, dec, sim, sim / dec);
    }
    return sink == 42 ? 1 : 0;
}
