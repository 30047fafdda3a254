// The differential test's executor: a riscv64 Linux program (static, run under qemu-riscv64) that
// executes each case's instruction for real and records what it did.
//
//   diff_harness CASES_FILE RESULTS_FILE
//
// How one case runs, without any hand-written register-loading code:
//  1. run_case() executes a 4-byte `ebreak`; the SIGTRAP handler saves the harness's own context
//     from the ucontext and replaces it with the case's x1..x31 and pc = insn_addr; returning
//     from the handler (rt_sigreturn) loads all of them at once.
//  2. The case instruction runs at insn_addr. Every other halfword of the code area is c.ebreak,
//     so the next instruction it reaches (fall-through, branch or jump target) traps again.
//  3. The handler records x1..x31, the pc and the signal (SIGTRAP on a pad, SIGSEGV/SIGBUS for a
//     faulting access with si_addr, SIGILL), then puts the saved harness context back with the
//     pc past the first ebreak, so run_case() returns as if nothing happened.
// Signals run on an alternate stack because the case owns sp. The harness is built with
// -mno-relax/--no-relax so the handler never addresses globals through gp, which the case owns
// too; it touches no TLS (tp).
//
// The harness also runs each simulate-class case through its own riscv64 build of the engine's
// decoder and simulator (sim_case.hpp) and reports a digest, so the host can check that both
// builds agree as well as that they match the CPU.
#include "diff_format.hpp"
#include "sim_case.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <ucontext.h>
#include <vector>

namespace {

using namespace ruprobes::diff;

const ruprobes::diff::case_in* current_in;
ruprobes::diff::case_out* current_out;
volatile int phase; // 0: the next trap enters a case; 1: the next signal ends it
unsigned long saved_gregs[32];
union __riscv_mc_fp_state saved_fp;

void on_signal(int sig, siginfo_t* info, void* context) {
    auto* uc = static_cast<ucontext_t*>(context);
    unsigned long* g = uc->uc_mcontext.__gregs; // [0] = pc, [1..31] = x1..x31
    if (phase == 0) {
        for (int i = 0; i < 32; ++i)
            saved_gregs[i] = g[i];
        saved_fp = uc->uc_mcontext.__fpregs;
        g[0] = insn_addr;
        for (int i = 1; i < 32; ++i)
            g[i] = current_in->regs[i];
        phase = 1;
        return;
    }
    current_out->signal = sig;
    current_out->pc = g[0];
    current_out->fault_addr =
        (sig == SIGSEGV || sig == SIGBUS) ? reinterpret_cast<uint64_t>(info->si_addr) : 0;
    current_out->regs[0] = 0;
    for (int i = 1; i < 32; ++i)
        current_out->regs[i] = g[i];
    for (int i = 0; i < 32; ++i)
        g[i] = saved_gregs[i];
    uc->uc_mcontext.__fpregs = saved_fp;
    g[0] += 4; // past the 4-byte ebreak in run_case()
    phase = 0;
}

void write_code(uint32_t insn) {
    auto* p = reinterpret_cast<volatile uint16_t*>(insn_addr);
    p[0] = static_cast<uint16_t>(insn);
    if ((insn & 3) == 3)
        p[1] = static_cast<uint16_t>(insn >> 16);
    asm volatile("fence.i" ::: "memory");
}

void clear_code() {
    auto* p = reinterpret_cast<volatile uint16_t*>(insn_addr);
    p[0] = 0x9002;
    p[1] = 0x9002;
    asm volatile("fence.i" ::: "memory");
}

__attribute__((noinline)) void run_case(const case_in& in, case_out& out) {
    std::memset(&out, 0, sizeof out);
    write_code(in.insn);
    std::memcpy(reinterpret_cast<void*>(window_addr), in.window, window_size);
    current_in = &in;
    current_out = &out;
    phase = 0;
    asm volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
    std::memcpy(out.window, reinterpret_cast<const void*>(window_addr), window_size);
    clear_code();
    if (in.kind == kind_simulate)
        out.sim_digest = digest(simulate_case(in));
}

bool map_fixed(uint64_t addr, uint64_t size, int prot) {
    void* p = mmap(reinterpret_cast<void*>(addr), size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != reinterpret_cast<void*>(addr)) {
        std::fprintf(stderr, "diff_harness: cannot map %#lx\n", static_cast<unsigned long>(addr));
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: diff_harness CASES_FILE RESULTS_FILE\n");
        return 2;
    }
    // The fixed areas first, before any large allocation could take their addresses.
    if (!map_fixed(code_base, code_size, PROT_READ | PROT_WRITE | PROT_EXEC) ||
        !map_fixed(data_page, 4096, PROT_READ | PROT_WRITE) ||
        !map_fixed(fault_base, fault_size, PROT_NONE) ||
        // One spare page above the signal stack: qemu-riscv64 touches the word at its very top.
        !map_fixed(signal_stack_addr, signal_stack_size + 4096, PROT_READ | PROT_WRITE))
        return 2;

    FILE* in = std::fopen(argv[1], "rb");
    diff_header header{};
    if (!in || std::fread(&header, sizeof header, 1, in) != 1 || header.magic != magic) {
        std::fprintf(stderr, "diff_harness: cannot read %s\n", argv[1]);
        return 2;
    }
    std::vector<case_in> cases(header.count);
    if (std::fread(cases.data(), sizeof(case_in), cases.size(), in) != cases.size()) {
        std::fprintf(stderr, "diff_harness: short cases file\n");
        return 2;
    }
    std::fclose(in);
    std::vector<case_out> results(cases.size());

    // The engine's built-in table (what a kernel runs at boot), in this riscv64 build.
    const ruprobes::insn_selftest_report selftest = ruprobes::insn_selftest();
    if (!selftest.ok()) {
        std::fprintf(stderr, "diff_harness: insn_selftest failed at case %u (bits %#x)\n",
                     selftest.failed_case, selftest.failed_bits);
        return 3;
    }
    std::printf("diff_harness: insn_selftest ok (%u cases)\n", selftest.cases);

    auto* pads = reinterpret_cast<uint16_t*>(code_base);
    for (uint64_t i = 0; i < code_size / 2; ++i)
        pads[i] = 0x9002; // c.ebreak

    stack_t ss{};
    ss.ss_sp = reinterpret_cast<void*>(signal_stack_addr);
    ss.ss_size = signal_stack_size;
    if (sigaltstack(&ss, nullptr) != 0) {
        std::perror("diff_harness: sigaltstack");
        return 2;
    }
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGTRAP, SIGSEGV, SIGBUS, SIGILL, SIGFPE})
        sigaction(sig, &sa, nullptr);

    for (size_t i = 0; i < cases.size(); ++i)
        run_case(cases[i], results[i]);

    FILE* out = std::fopen(argv[2], "wb");
    if (!out || std::fwrite(&header, sizeof header, 1, out) != 1 ||
        std::fwrite(results.data(), sizeof(case_out), results.size(), out) != results.size() ||
        std::fclose(out) != 0) {
        std::fprintf(stderr, "diff_harness: cannot write %s\n", argv[2]);
        return 2;
    }
    std::printf("diff_harness: %zu cases executed\n", cases.size());
    return 0;
}
