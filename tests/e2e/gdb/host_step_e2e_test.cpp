// Single steps the daemon computes itself (ruprobesd's default; --no-host-step turns it off):
// stepping through fib with `stepi` gives the same pc and registers, step for step, with host
// stepping on and off, and the same pcs as QEMU's user-mode gdbstub (qemu-riscv64 -g) running the
// same program. And the kernel semantics it relies on: a thread whose pc a debugger moved while
// it stood on a breakpoint resumes from the new pc like any other (a breakpoint there is hit).
#include "gdb_session.hpp"
#include "ruprobes_test/free_port.hpp"

#include <fstream>
#include <sstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";
constexpr int steps = 80;

// After `continue` to the breakpoint: `steps` stepi, each followed by a PC line and a REGS line
// (every integer register).
std::string register_trace_script(const temp_dir& dir) {
    std::string path = dir.file("register_trace.py");
    std::ofstream(path)
        << "import gdb\n"
           "names = ['ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1'] + \\\n"
           "    ['a%d' % i for i in range(8)] + ['s%d' % i for i in range(2, 12)] + \\\n"
           "    ['t%d' % i for i in range(3, 7)]\n"
           "def value(name):\n"
           "    return int(gdb.selected_frame().read_register(name)) & 0xffffffffffffffff\n"
           "def dump():\n"
           "    print('PC %x' % value('pc'))\n"
           "    print('REGS ' + ' '.join('%s=%x' % (n, value(n)) for n in names))\n"
           "gdb.execute('continue', to_string=True)\n"
           "dump()\n"
           "for i in range("
        << steps
        << "):\n"
           "    gdb.execute('stepi', to_string=True)\n"
           "    dump()\n";
    return path;
}

std::vector<std::string> lines_with(const std::string& out, const std::string& prefix) {
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0)
            lines.push_back(line);
    }
    return lines;
}

struct traced {
    std::string gdb;
    std::string daemon;
};

traced trace_under_ruprobesd(const temp_dir& dir, const std::string& name,
                             std::vector<std::string> flags) {
    temp_dir own;
    flags.insert(flags.end(), {"--spawn", "/bin/fib 15"});
    daemon_with_guest d(own, stay, flags);
    std::string out = run_gdb(dir, name, "fib",
                              {"target remote 127.0.0.1:" + d.port(), "break fib",
                               "source " + register_trace_script(dir), "kill"});
    return {out, d.process().output()};
}

TEST(host_step, stepi_through_fib_is_the_same_with_host_stepping_on_and_off_and_as_qemu_user) {
    temp_dir dir;
    traced on = trace_under_ruprobesd(dir, "gdb_host_step", {});
    traced off = trace_under_ruprobesd(dir, "gdb_kernel_step", {"--no-host-step"});

    std::vector<std::string> pcs = lines_with(on.gdb, "PC ");
    ASSERT_EQ(pcs.size(), size_t{steps + 1}) << on.gdb;
    EXPECT_EQ(lines_with(on.gdb, "REGS "), lines_with(off.gdb, "REGS ")) << on.gdb << off.gdb;
    EXPECT_EQ(pcs, lines_with(off.gdb, "PC ")) << on.gdb << off.gdb;
    // Both ways were taken: some steps on the host with it on, none with it off.
    size_t host_steps = count(on.daemon, "stepped on the host");
    EXPECT_GT(host_steps, size_t{10}) << on.daemon;
    EXPECT_LT(host_steps, size_t{steps}) << "loads, stores, calls and returns go to the kernel";
    EXPECT_EQ(count(off.daemon, "stepped on the host"), 0u) << off.daemon;

    // QEMU's user-mode gdbstub: the same pcs (its stack is elsewhere, so not the registers).
    std::string port = std::to_string(free_tcp_port());
    spawn_options q;
    q.argv = {"qemu-riscv64", "-g", port, std::string(user_dir) + "/fib"};
    q.output_file = dir.file("qemu_user.log");
    child_process qemu_user(q);
    std::string reference = run_gdb(dir, "gdb_qemu", "fib",
                                    {"target remote 127.0.0.1:" + port, "break fib",
                                     "source " + register_trace_script(dir), "kill"});
    qemu_user.stop();
    EXPECT_EQ(pcs, lines_with(reference, "PC ")) << on.gdb << "\n---- qemu-riscv64:\n" << reference;
}

TEST(host_step, a_breakpoint_where_the_debugger_moved_the_pc_is_hit_not_passed_over) {
    // Stopped on `break fib` in fib(15): `jump` to the next instruction, which has a breakpoint
    // too. gdb does not step over a breakpoint it jumps to: the thread must stop there at once
    // (before, the kernel carried out the breakpointed instruction there and ran on into
    // fib(14), stopping at breakpoint 1).
    temp_dir dir;
    for (bool host_step : {true, false}) {
        temp_dir own;
        std::vector<std::string> flags = {"--spawn", "/bin/fib 15"};
        if (!host_step)
            flags.push_back("--no-host-step");
        daemon_with_guest d(own, stay, flags);
        std::string out = run_gdb(
            dir, host_step ? "gdb_jump" : "gdb_jump_kernel_step", "fib",
            {"target remote 127.0.0.1:" + d.port(), "break fib", "continue",
             "python gdb.set_convenience_variable('next', int(gdb.parse_and_eval('$pc')) + "
             "gdb.selected_inferior().architecture().disassemble(int(gdb.parse_and_eval('$pc')))"
             "[0]['length'])",
             "break *$next", "jump *$next", "p/x $pc", "p $pc == $next", "continue",
             "p $pc == $next", "kill"});
        EXPECT_TRUE(has(out, "Breakpoint 2, ")) << out;
        EXPECT_TRUE(has(out, "$2 = 1")) << "stopped at the jump's target\n" << out;
        // Continuing from there steps over breakpoint 2 and runs into fib(14): breakpoint 1.
        EXPECT_TRUE(has(out, "$3 = 0")) << out;
        EXPECT_EQ(count(out, "Breakpoint 1, "), 2u) << out;
    }
}

} // namespace
