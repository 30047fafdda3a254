// gdb tracepoints with the real gdb-multiarch: gdb downloads the tracepoint and its actions
// (QTDP, agent expressions), the kernel collects a frame at each hit into its trace buffer
// without stopping the program, and tfind/tdump/tstatus read the frames back through ruprobesd.
#include "gdb_session.hpp"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* stay = "ruprobes.stay";

struct gdb_tracepoint_e2e : ::testing::Test {
    temp_dir dir;
    std::string remote(const daemon_with_guest& d) {
        return "target extended-remote 127.0.0.1:" + d.port();
    }
    // Runs the gdb script `lines` (one command per line) in batch mode to its end.
    std::string run_script(const std::string& name, const std::string& lines) {
        std::string script = dir.file(name + ".gdb");
        std::ofstream(script) << (getenv("TP_DEBUG") ? "set debug remote 1\n" : "") << lines;
        spawn_options o;
        o.argv = gdb_batch_argv("fib", {"source " + script});
        o.output_file = dir.file(name + ".log");
        child_process gdb(o);
        EXPECT_TRUE(gdb.wait_exit(170s).has_value()) << "gdb did not finish:\n" << gdb.output();
        return gdb.output();
    }
};

// The argument of every call of fib(n), in call order (fib(n) calls fib(n-1), then fib(n-2)).
void fib_calls(unsigned long n, std::vector<unsigned long>& out) {
    out.push_back(n);
    if (n >= 2) {
        fib_calls(n - 1, out);
        fib_calls(n - 2, out);
    }
}

// The python that walks every frame with tfind and prints n of each: "NS 10 9 8 ...".
const char* walk_frames = "python\n"
                          "ns = []\n"
                          "gdb.execute('tfind start', to_string=True)\n"
                          "while int(gdb.parse_and_eval('$trace_frame')) != -1:\n"
                          "    ns.append(str(int(gdb.parse_and_eval('n'))))\n"
                          "    gdb.execute('tfind', to_string=True)\n"
                          "print('NS ' + ' '.join(ns))\n"
                          "end\n";

// The stop replies the daemon sent to gdb at `addr` (its trace log: `<- T05…;20:PC;`, pc as
// little-endian hex).
size_t stop_replies_at(const std::string& daemon_log, uint64_t addr) {
    char pc[40];
    std::snprintf(pc, sizeof pc, ";20:%016llx;",
                  static_cast<unsigned long long>(__builtin_bswap64(addr)));
    size_t n = 0;
    std::istringstream in(daemon_log);
    for (std::string line; std::getline(in, line);)
        n += line.find("<- T05") != std::string::npos && has(line, pc) ? 1 : 0;
    return n;
}

// fib(10) makes 177 calls: 177 frames, each with the n of its call, in call order; no hit
// stopped the program (no stop reply at the tracepoint's address).
TEST_F(gdb_tracepoint_e2e, trace_fib_collects_177_frames_with_n) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10", "--log-level", "trace"});
    std::string out = run_script("trace", remote(d) +
                                              "\n"
                                              "trace fib\n"
                                              "actions\ncollect n\nend\n"
                                              "break fib.c:16\n"
                                              "tstart\n"
                                              "continue\n"
                                              "tstop\n"
                                              "tstatus\n" +
                                              walk_frames +
                                              "tfind 3\n"
                                              "tdump\n"
                                              "tfind none\n"
                                              "tfind tracepoint 1\n"
                                              "print $trace_frame\n"
                                              "tfind pc fib\n"
                                              "print $trace_frame\n"
                                              "tfind line fib\n"
                                              "print $trace_frame\n"
                                              "tstatus\n"
                                              "tfind none\n"
                                              "continue\n");
    EXPECT_TRUE(d.wait_for_console("fib(10) = 55", 10s)) << d.console();
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(has(out, "Collected 177 trace frames.")) << out;
    EXPECT_TRUE(has(out, "Trace stopped by a tstop command")) << out;
    std::vector<unsigned long> calls;
    fib_calls(10, calls);
    ASSERT_EQ(calls.size(), 177u);
    std::string expected = "NS";
    for (unsigned long n : calls)
        expected += " " + std::to_string(n);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("NS[ 0-9]*"))) << out;
    EXPECT_EQ(m[0].str(), expected) << out;
    // Frame 3 is the fourth call: fib(7) (10, 9, 8, 7).
    EXPECT_TRUE(has(out, "Found trace frame 3, tracepoint 1")) << out;
    EXPECT_TRUE(has(out, "n = 7")) << out;
    // From no frame, the searches find frame 0; each next one goes on from there.
    EXPECT_TRUE(has(out, "$1 = 0")) << out;
    EXPECT_TRUE(has(out, "$2 = 1")) << out;
    EXPECT_TRUE(has(out, "$3 = 2")) << out;
    std::smatch at;
    ASSERT_TRUE(std::regex_search(out, at, std::regex("Tracepoint 1 at 0x([0-9a-f]+)"))) << out;
    EXPECT_EQ(stop_replies_at(d.process().output(), std::stoull(at[1], nullptr, 16)), 0u);
    // ... while a stop there would show (the breakpoint after fib(10) returned stopped once).
    std::smatch bp;
    ASSERT_TRUE(std::regex_search(out, bp, std::regex("Breakpoint 2 at 0x([0-9a-f]+)"))) << out;
    EXPECT_EQ(stop_replies_at(d.process().output(), std::stoull(bp[1], nullptr, 16)), 1u);
}

// A trace state variable counted by an action: $calls ends at 177, in the kernel, read back
// with print (qTV) and in each frame where the action collected it.
TEST_F(gdb_tracepoint_e2e, a_trace_state_variable_counts_the_calls) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out = run_script("tvariable", remote(d) + "\n"
                                                          "tvariable $calls = 0\n"
                                                          "trace fib\n"
                                                          "actions\n"
                                                          "teval $calls = $calls + 1\n"
                                                          "collect $calls\n"
                                                          "end\n"
                                                          "break fib.c:16\n"
                                                          "tstart\n"
                                                          "continue\n"
                                                          "tstop\n"
                                                          "print $calls\n"
                                                          "info tvariables\n"
                                                          "tfind 9\n"
                                                          "print $calls\n"
                                                          "tfind none\n"
                                                          "continue\n");
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(has(out, "$1 = 177")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\$calls\\s+0\\s+177"))) << out;
    EXPECT_TRUE(has(out, "$2 = 10")) << out; // frame 9 is the tenth call
}

// A small buffer (set trace-buffer-size: QTBuffer:size, clamped by the kernel to its minimum)
// fills: tracing stops by itself, the program runs on to its end, tstatus says why, and the
// frames that fit are intact.
TEST_F(gdb_tracepoint_e2e, a_full_buffer_stops_tracing) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out = run_script("full", remote(d) +
                                             "\n"
                                             "set trace-buffer-size 1000\n"
                                             "trace fib\n"
                                             "actions\ncollect $regs\nend\n"
                                             "break fib.c:16\n"
                                             "tstart\n"
                                             "continue\n"
                                             "tstatus\n" +
                                             walk_frames + "continue\n");
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(has(out, "Trace stopped because the buffer was full.")) << out;
    // 1024 bytes (the kernel's minimum) hold 3 frames of a header and a register block
    // (8 + 265 bytes, 280 with the 8-byte alignment of each frame); the fourth finds no room.
    EXPECT_TRUE(has(out, "Collected 3 trace frames.")) << out;
    EXPECT_TRUE(has(out, "Trace buffer has 184 bytes of 1024 bytes free")) << out;
    EXPECT_TRUE(has(out, "NS 10 9 8\n")) << out;
}

// A pass count stops tracing after that many frames of the tracepoint.
TEST_F(gdb_tracepoint_e2e, a_passcount_stops_tracing) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out = run_script("pass", remote(d) +
                                             "\n"
                                             "trace fib\n"
                                             "passcount 5 1\n"
                                             "actions\ncollect n\nend\n"
                                             "break fib.c:16\n"
                                             "tstart\n"
                                             "continue\n"
                                             "tstatus\n" +
                                             walk_frames + "continue\n");
    EXPECT_TRUE(has(out, "Trace stopped by tracepoint 1.")) << out;
    EXPECT_TRUE(has(out, "Collected 5 trace frames.")) << out;
    EXPECT_TRUE(has(out, "NS 10 9 8 7 6\n")) << out;
}

// collect $regs, $locals and *argv@2 in main: the frame has the registers and the two pointers;
// what it did not collect (the argument strings) is not there: print shows it <unavailable>.
TEST_F(gdb_tracepoint_e2e, collect_registers_locals_and_memory) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out = run_script("collect", remote(d) + "\n"
                                                        "trace main\n"
                                                        "actions\n"
                                                        "collect $regs\n"
                                                        "collect $locals\n"
                                                        "collect *argv@2\n"
                                                        "end\n"
                                                        "break fib\n"
                                                        "tstart\n"
                                                        "continue\n"
                                                        "tstop\n"
                                                        "tstatus\n"
                                                        "tfind 0\n"
                                                        "tdump\n"
                                                        "print argc\n"
                                                        "print *argv[1]\n"
                                                        "print $fs0\n"
                                                        "tfind none\n"
                                                        "kill\n");
    EXPECT_TRUE(has(out, "Collected 1 trace frames.")) << out;
    EXPECT_TRUE(has(out, "Found trace frame 0, tracepoint 1")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\*argv@2 = \\{0x[0-9a-f]+.*, 0x[0-9a-f]+")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\bpc +0x[0-9a-f]+\\s+0x[0-9a-f]+ <main>")))
        << out;
    // The string argv[1] points to, and the FP registers, were not collected.
    EXPECT_TRUE(std::regex_search(out, std::regex("\\$2 = <unavailable>"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\$3 = <unavailable>"))) << out;
}

// A tracepoint the engine refuses (not an instruction boundary) fails tstart with the engine's
// reason; nothing is armed and the program runs normally.
TEST_F(gdb_tracepoint_e2e, an_unprobeable_tracepoint_is_refused_with_the_reason) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out =
        run_gdb(dir, "refused", "fib",
                {remote(d), "trace *((char *)fib + 1)", "tstart", "tstatus", "continue"});
    EXPECT_TRUE(std::regex_search(
        out, std::regex("tracepoint 1 at 0x[0-9a-f]+: tracepoint_add: .*addr_misaligned")))
        << out;
    EXPECT_TRUE(has(out, "No trace has been run on the target.")) << out;
    EXPECT_TRUE(has(out, "Collected 0 trace frames.")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("fib(10) = 55", 10s)) << d.console();
}

// tsave copies the kernel's buffer (qTBuffer) into a trace file that gdb opens on its own
// (target tfile), with the same frames.
TEST_F(gdb_tracepoint_e2e, tsave_writes_a_trace_file_gdb_reads_back) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 5"});
    std::string file = dir.file("fib.tf");
    std::string out = run_script("tsave", remote(d) +
                                              "\n"
                                              "trace fib\n"
                                              "actions\ncollect $regs\nend\n"
                                              "break fib.c:16\n"
                                              "tstart\n"
                                              "continue\n"
                                              "tstop\n"
                                              "tsave " +
                                              file +
                                              "\n"
                                              "kill\n"
                                              "target tfile " +
                                              file +
                                              "\n"
                                              "tstatus\n"
                                              "tfind 2\n"
                                              "print n\n");
    // fib(5) makes 15 calls; the third is fib(3).
    EXPECT_TRUE(has(out, "Using a trace file.")) << out;
    EXPECT_TRUE(has(out, "Collected 15 trace frames.")) << out;
    EXPECT_TRUE(has(out, "Found trace frame 2, tracepoint 1")) << out;
    EXPECT_TRUE(has(out, "$1 = 3")) << out;
}

// A tracepoint's condition is evaluated by the kernel at the hit (ConditionalTracepoints):
// fib(10) calls fib(3) F(8) = 21 times, and only those make frames.
TEST_F(gdb_tracepoint_e2e, a_conditional_tracepoint_collects_only_where_it_holds) {
    daemon_with_guest d(dir, stay, {"--spawn", "/bin/fib 10"});
    std::string out = run_script("cond", remote(d) +
                                             "\n"
                                             "trace fib if n == 3\n"
                                             "actions\ncollect n\nend\n"
                                             "break fib.c:16\n"
                                             "tstart\n"
                                             "continue\n"
                                             "tstop\n"
                                             "tstatus\n" +
                                             walk_frames + "continue\n");
    EXPECT_TRUE(has(out, "Collected 21 trace frames.")) << out;
    std::string expected = "NS";
    for (int i = 0; i < 21; i++)
        expected += " 3";
    EXPECT_TRUE(has(out, expected + "\n")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
}

} // namespace
