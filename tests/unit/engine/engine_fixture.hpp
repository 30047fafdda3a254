// Shared fixture of the engine's registry / hit-path tests: a host machine (the port), an engine
// initialised over its own memory block, a hit sink that records every hit, and the program
// "/bin/sum" whose layout the tests refer to by address.
#pragma once

#include "host_port/host_machine.hpp"
#include "host_port/rv_asm.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ruprobes::test {

// "/bin/sum": main calls f(a0) = a0 + f(a0 - 1), f(0) = 0, then reaches `sum_end`; plus single
// instructions of every class at fixed addresses.
namespace sum {
inline constexpr uint64_t main = 0x10000;
inline constexpr uint64_t end = 0x10004;   // main returns here (c.nop)
inline constexpr uint64_t addi = 0x10008;  // addi a0, a0, 1
inline constexpr uint64_t caddi = 0x1000c; // c.addi a0, 1 (16-bit)
inline constexpr uint64_t f = 0x10010;     // f: addi sp, sp, -16
inline constexpr uint64_t f_add = 0x1002c; // add a0, a0, s0 (after the recursive call)
inline constexpr uint64_t f_ret = 0x10044; // ret
inline constexpr uint64_t ecall = 0x10048;
inline constexpr uint64_t ebreak = 0x1004c;
inline constexpr uint64_t csr = 0x10050;
inline constexpr uint64_t fence_i = 0x10054;
inline constexpr uint64_t lr = 0x10058;
inline constexpr uint64_t amoadd = 0x1005c; // amoadd.w a0, a1, (a2): out of line
inline constexpr uint64_t cjr = 0x10060;    // c.jr ra
inline constexpr uint64_t cebreak = 0x10062;
inline constexpr uint64_t wfi = 0x10064;
inline constexpr uint64_t unimp = 0x10068; // 16-bit all-zero parcel (illegal)
inline constexpr uint64_t load = 0x1006c;  // ld a0, 0(a1)
inline constexpr uint64_t auipc = 0x10070; // auipc a0, 0x1
inline constexpr uint64_t tail = 0x10074;  // c.nop; c.nop
inline constexpr uint64_t text_end = 0x10078;

inline std::vector<uint8_t> image() {
    return host_machine::code({
        rv::jal(rv::ra, 16), // 0x10000
        rv::c_nop,
        rv::c_nop,                   // 0x10004, 0x10006
        rv::addi(rv::a0, rv::a0, 1), // 0x10008
        rv::c_addi(rv::a0, 1),
        rv::c_nop,                            // 0x1000c, 0x1000e
        rv::addi(rv::sp, rv::sp, -16),        // 0x10010 f
        rv::sd(rv::ra, rv::sp, 8),            // 0x10014
        rv::sd(rv::s0, rv::sp, 0),            // 0x10018
        rv::addi(rv::s0, rv::a0, 0),          // 0x1001c
        rv::beq(rv::a0, rv::zero, 20),        // 0x10020 -> 0x10034
        rv::addi(rv::a0, rv::a0, -1),         // 0x10024
        rv::jal(rv::ra, -24),                 // 0x10028 -> f
        rv::add(rv::a0, rv::a0, rv::s0),      // 0x1002c
        rv::jal(rv::zero, 8),                 // 0x10030 -> 0x10038
        rv::addi(rv::a0, rv::zero, 0),        // 0x10034
        rv::ld(rv::ra, rv::sp, 8),            // 0x10038
        rv::ld(rv::s0, rv::sp, 0),            // 0x1003c
        rv::addi(rv::sp, rv::sp, 16),         // 0x10040
        rv::ret,                              // 0x10044
        rv::ecall,                            // 0x10048
        rv::ebreak,                           // 0x1004c
        rv::rdcycle_a0,                       // 0x10050
        rv::fence_i,                          // 0x10054
        rv::lr_w(rv::a0, rv::a1),             // 0x10058
        rv::amoadd_w(rv::a0, rv::a1, rv::a2), // 0x1005c
        rv::c_jr(rv::ra),                     // 0x10060
        rv::c_ebreak,                         // 0x10062
        rv::wfi,                              // 0x10064
        rv::c_unimp,
        rv::c_unimp,               // 0x10068, 0x1006a
        rv::ld(rv::a0, rv::a1, 0), // 0x1006c
        rv::auipc(rv::a0, 1),      // 0x10070
        rv::c_nop,
        rv::c_nop, // 0x10074, 0x10076
    });
}
} // namespace sum

class engine_test : public ::testing::Test {
protected:
    void SetUp() override {
        memory = std::make_unique<engine_memory>(limits());
        ASSERT_EQ(memory->init_result, 0);
        uprobes_set_hit_sink(&engine_test::sink, this);
        machine.add_program("/bin/sum", sum::image());
    }
    void TearDown() override {
        uprobes_set_hit_sink(nullptr, nullptr);
        EXPECT_EQ(machine.max_lock_depth, 1u) << "the engine lock must never nest";
        EXPECT_EQ(machine.lock_depth, 0u);
        EXPECT_EQ(machine.program_hooks_under_lock, 0u)
            << "os_program_get/put may sleep: never called with the engine lock held";
        EXPECT_EQ(machine.images_held, 0) << "every os_program_get has its os_program_put";
    }

    // Capacities for this test (nullptr: the defaults).
    virtual const uprobes_limits* limits() { return nullptr; }

    static void sink(const uprobes_hit* hit, void* user) {
        static_cast<engine_test*>(user)->hits.push_back(*hit);
    }

    // A probe with its address as cookie (which the hit records show).
    int add_probe(uint64_t addr, uint8_t kind = UPROBES_KIND_INSN,
                  uint8_t mode = UPROBES_MODE_TRACE, uint32_t pid = UPROBES_ANY_PID,
                  const char* path = "/bin/sum") {
        return add_probe_with_cookie(addr, addr, kind, mode, pid, path);
    }

    // The same with `cookie` (0: the record sink takes a trace probe's hits).
    int add_probe_with_cookie(uint64_t addr, uint64_t cookie, uint8_t kind = UPROBES_KIND_INSN,
                              uint8_t mode = UPROBES_MODE_TRACE, uint32_t pid = UPROBES_ANY_PID,
                              const char* path = "/bin/sum") {
        uprobes_probe_spec spec = {};
        spec.path = path;
        spec.addr = addr;
        spec.kind = kind;
        spec.mode = mode;
        spec.pid = pid;
        spec.cookie = cookie;
        return uprobe_register_spec(&spec);
    }

    uprobes_stats stats() {
        uprobes_stats s = {};
        uprobes_get_stats(&s);
        return s;
    }

    // A CPU for thread `tid` of `pid` (made current), at `pc`, with a stack.
    cpu thread_at(uint32_t pid, uint32_t tid, uint64_t pc) {
        machine.set_current(pid, tid);
        cpu c;
        c.ctx.pc = pc;
        c.ctx.x[rv::sp] = stack_top - 64;
        return c;
    }

    host_machine machine;
    std::unique_ptr<engine_memory> memory;
    std::vector<uprobes_hit> hits;
};

} // namespace ruprobes::test
