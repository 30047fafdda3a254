// Inferior calls (gdb's return breakpoint on the stack: a fetch fault reported as that
// breakpoint) and faults that stop the debugged process instead of killing it, with the real gdb
// against ruprobesd and the kernel in QEMU; the calls are compared with QEMU's user-mode gdbstub.
#include "gdb_session.hpp"
#include "ruprobes_test/free_port.hpp"

#include <sstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

// What gdb printed for the calls: the value lines ($N = ...) and "Value returned" lines.
std::vector<std::string> values(const std::string& out) {
    std::vector<std::string> lines;
    std::regex value("^(\\$\\d+ = .*|Value returned is .*)$");
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (std::regex_match(line, value))
            lines.push_back(line);
    }
    return lines;
}

const std::vector<std::string> call_commands = {
    "break fib", "continue", "delete", "call fib(5)", "p fib(10)",
    // Stopped inside a called function, then finish out of it into gdb's dummy frame.
    "break fib if n == 3", "call fib(3)", "bt 1", "finish", "delete", "p fib(7)"};

TEST(gdb_calls, call_print_and_finish_from_a_called_function) {
    temp_dir dir;
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::vector<std::string> commands = {"target remote 127.0.0.1:" + d.port()};
    commands.insert(commands.end(), call_commands.begin(), call_commands.end());
    commands.push_back("continue");
    std::string out = run_gdb(dir, "gdb", "fib", commands);
    EXPECT_TRUE(has(out, "$1 = 5")) << out;
    EXPECT_TRUE(has(out, "$2 = 55")) << out;
    EXPECT_TRUE(has(out, "The program being debugged stopped while in a function called from GDB"))
        << out;
    EXPECT_TRUE(has(out, "Value returned is $3 = 2")) << out;
    EXPECT_TRUE(has(out, "$4 = 13")) << out;
    EXPECT_FALSE(has(out, "Cannot insert breakpoint")) << out;
    EXPECT_FALSE(has(out, "SIGSEGV")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("fib(5) = 5", 10s)) << d.console();

    // The same session under QEMU's user-mode gdbstub prints the same values.
    std::string port = std::to_string(free_tcp_port());
    spawn_options q;
    q.argv = {"qemu-riscv64", "-g", port, std::string(user_dir) + "/fib"}; // fib(15) there
    q.output_file = dir.file("qemu_user.log");
    child_process qemu_user(q);
    std::vector<std::string> reference_commands = {"target remote 127.0.0.1:" + port};
    reference_commands.insert(reference_commands.end(), call_commands.begin(), call_commands.end());
    reference_commands.push_back("kill");
    std::string reference = run_gdb(dir, "gdb_qemu", "fib", reference_commands);
    ASSERT_TRUE(has(reference, "$2 = 55")) << reference;
    EXPECT_EQ(values(out), values(reference)) << out << "\n---- qemu-riscv64:\n" << reference;
}

struct fault_case {
    const char* mode;
    const char* signal; // as gdb names it
};

// Every mode of /bin/bad stops with its signal at the faulting pc; continue delivers it and the
// process dies of it (gdb does not pass SIGTRAP: the program's ebreak traps again).
TEST(gdb_fault_stops, every_bad_mode_stops_with_its_signal_and_continue_delivers_it) {
    temp_dir dir;
    daemon_with_guest d(dir, stay);
    const fault_case cases[] = {
        {"null", "SIGSEGV, Segmentation fault"},     {"text", "SIGSEGV, Segmentation fault"},
        {"illegal", "SIGILL, Illegal instruction"},  {"kernel", "SIGSEGV, Segmentation fault"},
        {"stack", "SIGSEGV, Segmentation fault"},    {"misaligned", "SIGBUS, Bus error"},
        {"ebreak", "SIGTRAP, Trace/breakpoint trap"}};
    for (const auto& c : cases) {
        std::string mode = c.mode;
        std::string out =
            run_gdb(dir, "gdb_" + mode, "bad",
                    {"target extended-remote 127.0.0.1:" + d.port(),
                     "set remote exec-file /bin/bad", "run " + mode, "bt 2", "info registers pc",
                     "x/i $pc", "p $sp != 0", "continue", "info inferiors"});
        EXPECT_TRUE(has(out, std::string("Program received signal ") + c.signal)) << mode << out;
        EXPECT_FALSE(has(out, "bad: still alive")) << mode << out;
        EXPECT_TRUE(std::regex_search(out, std::regex("#0  .*"))) << mode << out;
        EXPECT_TRUE(has(out, "$1 = 1")) << mode << out;
        if (mode == "null") {
            EXPECT_TRUE(std::regex_search(out, std::regex("pc\\s+0x0\\s"))) << out;
            EXPECT_TRUE(has(out, "Cannot access memory at address 0x0")) << out;
        } else {
            EXPECT_TRUE(std::regex_search(out, std::regex("#[01]  .*main \\(")) ||
                        std::regex_search(out, std::regex("#[01]  .*deeper \\(")))
                << mode << out;
            EXPECT_TRUE(std::regex_search(out, std::regex("=> 0x[0-9a-f]+ <(main|deeper)\\+")))
                << mode << out;
        }
        if (mode == "ebreak") {
            // gdb keeps SIGTRAP (nopass): continuing runs the ebreak again, which traps again.
            size_t first = out.find("Program received signal SIGTRAP");
            EXPECT_NE(out.find("Program received signal SIGTRAP", first + 1), std::string::npos)
                << out;
        } else {
            EXPECT_TRUE(has(out, std::string("Program terminated with signal ") + c.signal))
                << mode << out;
        }
    }
    EXPECT_TRUE(d.process().running());
}

TEST(gdb_fault_stops, signal_0_discards_the_fault) {
    temp_dir dir;
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/bad illegal"});
    // Skip the illegal instruction (4 bytes) and let the program go on without the signal.
    std::string out = run_gdb(
        dir, "gdb", "bad",
        {"target remote 127.0.0.1:" + d.port(), "continue", "set $pc = $pc + 4", "signal 0"});
    EXPECT_TRUE(has(out, "Program received signal SIGILL, Illegal instruction")) << out;
    EXPECT_TRUE(has(out, "exited with code 01")) << out;
    EXPECT_TRUE(d.wait_for_console("bad: still alive after 'illegal'", 10s)) << d.console();
}

} // namespace
