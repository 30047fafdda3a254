// Restarts under load, against the real kernel in a test-owned QEMU (--qemu-socket):
// - QEMU killed while a subscriber receives ticker's hits and started again under the running
//   daemon: disconnected/connected notices, requests answered (not hung) meanwhile, the trace
//   probe armed again with the same id, hits of the new ticker arrive on the same subscription.
// - ruprobesd killed (SIGKILL) while gdb holds fib stopped at a breakpoint and a trace probe
//   streams: the kernel's lease resumes fib (correct output), ticker keeps running with correct
//   results, and a new ruprobesd starts from a clean kernel (no probes) and serves gdb and
//   JSON-RPC.
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/qemu_guest.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <thread>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

guest_options socket_guest() {
    guest_options g;
    g.append = "ruprobes.stay";
    g.agent_channel = true;
    return g;
}

// Every "ticker: tick N, fib(K) = V" line of the console has V == fib(K); how many there are.
int check_ticker_lines(const std::string& console) {
    static const std::regex line("ticker: tick \\d+, fib\\((\\d+)\\) = (\\d+)");
    uint64_t want[16] = {0, 1};
    for (int i = 2; i < 16; i++)
        want[i] = want[i - 1] + want[i - 2];
    int n = 0;
    for (std::sregex_iterator it(console.begin(), console.end(), line), end; it != end; ++it) {
        unsigned k = std::stoul((*it)[1]);
        EXPECT_LT(k, 16u);
        if (k < 16) {
            EXPECT_EQ(std::stoull((*it)[2]), want[k]) << it->str();
        }
        n++;
    }
    return n;
}

TEST(faults_restart, qemu_killed_mid_stream_and_restarted_under_the_daemon) {
    temp_dir dir;
    auto guest = std::make_unique<qemu_guest>(dir, socket_guest());
    rpc_daemon d(dir, guest->agent_socket(), "ruprobesd");
    rpc_test_client c(d.rpc_port());
    std::string boot1 = wait_target_connected(c);
    ASSERT_FALSE(boot1.empty()) << d.process().output();
    json sub = c.call(
        "events.subscribe",
        {{"kinds", {"probe.hit", "events.lost", "target.connected", "target.disconnected"}}});
    ASSERT_TRUE(sub.contains("result")) << sub.dump();
    json probe = c.call("probe.add", {{"program", "/bin/ticker"}, {"symbol", "tick"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    json t1 = c.call("process.spawn", {{"argv", {"/bin/ticker", "10"}}});
    ASSERT_TRUE(t1.contains("result")) << t1.dump();
    hit_count h1 = read_hits(c, id, t1["result"]["pid"], 20, 30s);
    EXPECT_EQ(h1.hits, 20) << d.process().output();
    EXPECT_EQ(h1.unexplained, 0);

    // Mid-stream: ticker is still calling tick() every 10 ms.
    guest->process().signal(SIGKILL);
    ASSERT_TRUE(guest->wait_exit(10s).has_value());
    ASSERT_TRUE(c.wait_notification("target.disconnected", 30s)) << d.process().output();
    // Without a target, requests get an answer (an error or the daemon's own state), not a hang.
    json status = c.call("target.status");
    ASSERT_TRUE(status.contains("result")) << status.dump();
    EXPECT_EQ(status["result"]["connected"], false);
    json spawn_down = c.call("process.spawn", {{"argv", {"/bin/ticker"}}});
    ASSERT_TRUE(spawn_down.contains("error")) << spawn_down.dump();
    EXPECT_EQ(spawn_down["error"]["code"], -32000) << spawn_down.dump();

    guest = std::make_unique<qemu_guest>(dir, socket_guest()); // same socket path
    auto up = c.wait_notification("target.connected", 60s);
    ASSERT_TRUE(up) << d.process().output();
    EXPECT_NE((*up)["params"]["boot_id"], boot1);
    json list = c.call("probe.list");
    ASSERT_EQ(list["result"]["probes"].size(), 1u) << list.dump();
    EXPECT_EQ(list["result"]["probes"][0]["id"], id);

    // The same subscription receives the hits of a ticker in the new kernel.
    c.notifications.clear(); // hits of the first boot that were read before the notices
    json t2 = c.call("process.spawn", {{"argv", {"/bin/ticker", "10"}}});
    ASSERT_TRUE(t2.contains("result")) << t2.dump();
    hit_count h2 = read_hits(c, id, t2["result"]["pid"], 20, 30s);
    EXPECT_EQ(h2.hits, 20) << d.process().output();
    EXPECT_EQ(h2.unexplained, 0);
    EXPECT_TRUE(d.process().running());
}

TEST(faults_restart, daemon_killed_and_restarted_while_the_guest_runs) {
    temp_dir dir;
    qemu_guest guest(dir, socket_guest());
    auto d1 = std::make_unique<rpc_daemon>(dir, guest.agent_socket(), "ruprobesd1");
    int64_t ticker_pid = 0;
    {
        rpc_test_client c(d1->rpc_port());
        ASSERT_FALSE(wait_target_connected(c).empty()) << d1->process().output();
        c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
        json probe = c.call("probe.add", {{"program", "/bin/ticker"}, {"symbol", "tick"}});
        ASSERT_TRUE(probe.contains("result")) << probe.dump();
        json t = c.call("process.spawn", {{"argv", {"/bin/ticker", "20"}}});
        ASSERT_TRUE(t.contains("result")) << t.dump();
        ticker_pid = t["result"]["pid"];
        EXPECT_EQ(read_hits(c, probe["result"]["id"], ticker_pid, 10, 30s).hits, 10);
    }

    // gdb stops fib at a breakpoint; then the daemon dies under it.
    spawn_options o;
    o.argv =
        gdb_batch_argv("fib", {"target extended-remote 127.0.0.1:" + std::to_string(d1->rsp_port()),
                               "set remote exec-file /bin/fib", "break fib", "run 17",
                               "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb1.log");
    auto gdb = std::make_unique<child_process>(o);
    ASSERT_TRUE(gdb->wait_for_output("STOPPED", 60s)) << gdb->output();
    ASSERT_TRUE(gdb->output().find("Breakpoint 1, fib") != std::string::npos) << gdb->output();
    // (fib(17): ticker's lines only ever print fib(0..15).)
    EXPECT_FALSE(guest.wait_for_console("fib(17) = 1597", 500ms));
    int ticks_before = check_ticker_lines(guest.console());
    d1->process().signal(SIGKILL);
    ASSERT_EQ(d1->process().wait_exit(10s), 128 + SIGKILL);
    gdb->signal(SIGKILL);
    gdb->wait_exit(10s);

    // No host: the lease (10 s) ends the session and fib runs again, to its correct end.
    EXPECT_TRUE(guest.wait_for_console(
        "agent: session ended (lease expired), 1 stopped threads resumed", 40s))
        << guest.console();
    EXPECT_TRUE(guest.wait_for_console("fib(17) = 1597", 30s)) << guest.console();
    // ticker ran on under its armed probe and printed correct values all along.
    EXPECT_GT(check_ticker_lines(guest.console()), ticks_before) << guest.console();

    // A new daemon on the same kernel: it starts with reset — no probes are left in the kernel,
    // ticker is still alive and not stopped, and new probes and gdb sessions work.
    d1.reset();
    rpc_daemon d2(dir, guest.agent_socket(), "ruprobesd2");
    rpc_test_client c(d2.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d2.process().output();
    json list = c.call("probe.list");
    ASSERT_TRUE(list.contains("result")) << list.dump();
    EXPECT_EQ(list["result"]["probes"].size(), 0u) << list.dump();
    json ps = c.call("process.list");
    ASSERT_TRUE(ps.contains("result")) << ps.dump();
    bool ticker_alive = false;
    for (const auto& p : ps["result"]["processes"]) {
        if (p["pid"] == ticker_pid) {
            ticker_alive = true;
            EXPECT_NE(p["state"], "stopped") << ps.dump();
        }
    }
    EXPECT_TRUE(ticker_alive) << ps.dump();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    // Nothing was left armed: no hit arrives before a probe is added again.
    auto stray = c.receive(1500ms);
    EXPECT_FALSE(stray) << stray->dump();
    json probe = c.call("probe.add", {{"program", "/bin/ticker"}, {"symbol", "tick"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    hit_count h = read_hits(c, probe["result"]["id"], ticker_pid, 10, 30s);
    EXPECT_EQ(h.hits, 10) << d2.process().output();
    EXPECT_EQ(h.unexplained, 0);

    std::string out =
        run_gdb(dir, "gdb2", "fib",
                {"target extended-remote 127.0.0.1:" + std::to_string(d2.rsp_port()),
                 "set remote exec-file /bin/fib", "break fib", "run 3", "p n", "kill"});
    EXPECT_TRUE(out.find("Breakpoint 1, fib (n=n@entry=3)") != std::string::npos) << out;
    EXPECT_TRUE(d2.process().running());
}

} // namespace
} // namespace ruprobes::test
