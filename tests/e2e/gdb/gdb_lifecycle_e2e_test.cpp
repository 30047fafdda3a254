// The real gdb-multiarch against ruprobesd and the reference kernel in QEMU, with a JSON-RPC
// client alongside: return probes stay invisible to gdb, a process that dies while gdb holds it
// (killed over JSON-RPC, QEMU killed) ends the way gdb expects, and --spawn with readiness
// (started when the kernel is up, never used up by a port probe, a clear error after a deadline).
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/qemu_guest.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

std::string remote(uint16_t port) {
    return "target remote 127.0.0.1:" + std::to_string(port);
}
std::string extended(uint16_t port) {
    return "target extended-remote 127.0.0.1:" + std::to_string(port);
}

// gdb -batch running `commands` in the background (killed by pid when the object goes).
std::unique_ptr<child_process> start_gdb(const temp_dir& dir, const std::string& name,
                                         const std::string& program,
                                         const std::vector<std::string>& commands) {
    spawn_options o;
    o.argv = gdb_batch_argv(program, commands);
    o.output_file = dir.file(name + ".log");
    return std::make_unique<child_process>(o);
}

// A gdb command that blocks until the test creates `flag`.
std::string wait_for_file(const std::string& flag) {
    return "shell while [ ! -e " + flag + " ]; do sleep 0.05; done";
}

void touch(const std::string& path) {
    std::ofstream(path) << "go\n";
}

// The pids of the guest's processes running `program` (JSON-RPC process.list).
std::vector<int64_t> pids_of(rpc_test_client& c, const std::string& program) {
    std::vector<int64_t> out;
    json list = c.call("process.list");
    for (const auto& p : list["result"]["processes"]) {
        if (p["program"] == program)
            out.push_back(p["pid"].get<int64_t>());
    }
    return out;
}

// Plain TCP: connects to 127.0.0.1:port, sends `bytes` (maybe none), hangs up.
void poke(uint16_t port, const std::string& bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (!bytes.empty()) {
        ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    }
    ::close(fd);
}

TEST(gdb_lifecycle_e2e, return_probe_is_invisible_to_gdb) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd", {"--spawn", "/bin/fib 5"});
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    json probe =
        c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}, {"kind", "return"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];

    // ra as the g and p packets carry it must be the value gdb shows ($ra).
    std::string script = dir.file("raw_ra.py");
    std::ofstream(script)
        << "ra = int(gdb.parse_and_eval('$ra'))\n"
           "le = ''.join('%02x' % ((ra >> (8 * i)) & 0xff) for i in range(8))\n"
           "g = gdb.execute('maint packet g', to_string=True)\n"
           "p = gdb.execute('maint packet p1', to_string=True)\n"
           "print('RAW g ra %s' % ('ok' if g.split(chr(34))[1][16:32] == le else 'BAD ' + g))\n"
           "print('RAW p ra %s' % ('ok' if le in p else 'BAD ' + p))\n";
    std::string out = run_gdb(dir, "gdb", "fib",
                              {remote(d.rsp_port()), "break fib", "continue", "continue", "bt",
                               "info symbol $ra", "source " + script, "up", "info frame", "down",
                               "set var $ra = $ra", "delete", "finish", "continue"});
    // fib(4), called by fib(5): the return probe's trampoline shows nowhere.
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#1  0x[0-9a-f]+ in fib \\(n=(n@entry=)?5\\)")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("#2  0x[0-9a-f]+ in main"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("fib \\+ \\d+ in section \\.text"))) << out;
    EXPECT_TRUE(has(out, "RAW g ra ok")) << out;
    EXPECT_TRUE(has(out, "RAW p ra ok")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("caller of frame at 0x[0-9a-f]+"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("saved pc = 0x[0-9a-f]+"))) << out;
    EXPECT_FALSE(has(out, "?? ()")) << out;
    EXPECT_TRUE(has(out, "Value returned is $1 = 3")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    // `set var $ra = $ra` wrote ra while the return was pending: every return still reported.
    int hits = -1;
    for (auto end = std::chrono::steady_clock::now() + 20s;
         hits != 15 && std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms)) {
        json list = c.call("probe.list");
        for (const auto& p : list["result"]["probes"]) {
            if (p["id"] == id)
                hits = p["hits"].get<int>();
        }
    }
    EXPECT_EQ(hits, 15) << "fib(5) makes 15 calls of fib";
}

TEST(gdb_lifecycle_e2e, process_killed_over_jsonrpc_while_stopped_then_run_again) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    std::string flag = dir.file("killed");
    auto gdb = start_gdb(dir, "gdb", "fib",
                         {extended(d.rsp_port()), "set remote exec-file /bin/fib", "break fib",
                          "run 5", "echo STOPPED\\n", wait_for_file(flag), "continue",
                          "info registers pc", "run 4", "p n", "kill"});
    ASSERT_TRUE(gdb->wait_for_output("STOPPED", 60s)) << gdb->output();
    auto pids = pids_of(c, "/bin/fib");
    ASSERT_EQ(pids.size(), 1u);
    json killed = c.call("process.kill", {{"pid", pids[0]}});
    ASSERT_TRUE(killed.contains("result")) << killed.dump();
    touch(flag);
    ASSERT_TRUE(gdb->wait_exit(60s).has_value()) << gdb->output();
    std::string out = gdb->output();
    EXPECT_TRUE(has(out, "Program terminated with signal SIGKILL")) << out;
    EXPECT_FALSE(has(out, "Cannot access memory")) << out;
    EXPECT_TRUE(has(out, "The program has no registers now.")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out;
    EXPECT_TRUE(has(out, "$1 = 4")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) killed\\]")))
        << out;
    EXPECT_TRUE(pids_of(c, "/bin/fib").empty()) << "no fib left behind";
}

TEST(gdb_lifecycle_e2e, qemu_killed_while_stopped_then_run_in_the_next_kernel) {
    temp_dir dir;
    guest_options g;
    g.append = "ruprobes.stay";
    g.agent_channel = true;
    auto guest = std::make_unique<qemu_guest>(dir, g);
    rpc_daemon d(dir, guest->agent_socket(), "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    std::string flag = dir.file("restarted");
    auto gdb =
        start_gdb(dir, "gdb", "fib",
                  {extended(d.rsp_port()), "set remote exec-file /bin/fib", "break fib", "run 5",
                   "echo STOPPED\\n", wait_for_file(flag), "continue", "run 4", "p n", "kill"});
    ASSERT_TRUE(gdb->wait_for_output("STOPPED", 60s)) << gdb->output();
    guest->process().signal(SIGKILL);
    ASSERT_TRUE(guest->wait_exit(10s).has_value());
    ASSERT_TRUE(d.process().wait_for_output("channel: disconnected", 30s)) << d.process().output();
    guest = std::make_unique<qemu_guest>(dir, g); // the same socket path
    touch(flag); // gdb may go on before the new kernel is up: run waits for it
    ASSERT_TRUE(gdb->wait_exit(90s).has_value()) << gdb->output();
    std::string out = gdb->output();
    EXPECT_TRUE(has(out, "Program terminated with signal SIGKILL")) << out;
    EXPECT_FALSE(has(out, "Cannot access memory")) << out;
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=4)")) << out << d.process().output();
    EXPECT_TRUE(has(out, "$1 = 4")) << out;
}

TEST(gdb_lifecycle_e2e, spawn_starts_with_the_kernel_and_survives_port_probes) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd", {"--spawn", "/bin/fib 5"});
    ASSERT_TRUE(d.process().wait_for_output("ready: kernel", 60s)) << d.process().output();
    rpc_test_client c(d.rpc_port());
    // Started before any debugger connected, stopped at its entry.
    auto pids = pids_of(c, "/bin/fib");
    ASSERT_EQ(pids.size(), 1u) << d.process().output();
    json list = c.call("process.list");
    EXPECT_TRUE(has(list.dump(), "\"stopped\"")) << list.dump();
    EXPECT_TRUE(has(d.process().output(), "/bin/fib 5 started as pid " + std::to_string(pids[0])))
        << d.process().output();
    // A port probe, a client that sends junk, one that sends a packet with a bad checksum.
    poke(d.rsp_port(), "");
    poke(d.rsp_port(), "GET / HTTP/1.0\r\n\r\n");
    poke(d.rsp_port(), "+$qSupported#00");
    std::string out =
        run_gdb(dir, "gdb", "fib", {remote(d.rsp_port()), "break fib", "continue", "p n", "kill"});
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out << d.process().output();
    EXPECT_TRUE(has(out, "$1 = 5")) << out;
    EXPECT_EQ(count(d.process().output(), "ready: kernel"), 1u) << d.process().output();
}

TEST(gdb_lifecycle_e2e, a_debugger_early_waits_for_the_kernel_or_gets_a_clear_error) {
    temp_dir dir;
    std::string socket = dir.file("agent.sock"); // where qemu_guest puts it
    rpc_daemon d(dir, socket, "ruprobesd", {"--spawn", "/bin/fib 5", "--ready-timeout", "3"});
    // No kernel within the deadline: a clear error, gdb does not hang.
    std::string out = run_gdb(dir, "early", "fib", {remote(d.rsp_port())});
    EXPECT_TRUE(has(out, "the kernel is not up after 3 s")) << out;

    // A debugger that connects before the kernel boots gets the --spawn process once it is up.
    auto gdb = start_gdb(
        dir, "gdb", "fib",
        {"set remotetimeout 30", remote(d.rsp_port()), "break fib", "continue", "p n", "kill"});
    ASSERT_TRUE(d.process().wait_for_output("waiting up to", 30s)) << d.process().output();
    guest_options g;
    g.append = "ruprobes.stay";
    g.agent_channel = true;
    qemu_guest guest(dir, g);
    ASSERT_TRUE(gdb->wait_exit(60s).has_value()) << gdb->output();
    out = gdb->output();
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out << d.process().output();
    EXPECT_TRUE(has(out, "$1 = 5")) << out;
}

} // namespace
