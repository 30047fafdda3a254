// Seeded random bytes into the kernel's channel (QEMU's agent socket, before any host): noise,
// and frame starts ("RUPW" magic) with random headers and bodies. The kernel keeps running and
// counts what it rejected; a daemon that connects afterwards gets a session and serves a trace
// subscription and a gdb session.
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/qemu_guest.hpp"

#include <gtest/gtest.h>

#include <random>
#include <regex>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

TEST(bad_input, random_bytes_into_the_channel_then_a_daemon_serves) {
    temp_dir dir;
    guest_options g;
    g.append = "ruprobes.stay";
    g.agent_channel = true;
    qemu_guest guest(dir, g);
    ASSERT_TRUE(guest.wait_for_console("agent: serving the host", 30s)) << guest.console();

    std::mt19937 rng(8);
    std::string noise;
    for (int i = 0; i < 200; i++) {
        // protocol/README.md §1: a frame starts with the magic 'R' 'U' 'P' 'W'.
        if (rng() % 2)
            noise += "RUPW";
        size_t n = rng() % 600;
        for (size_t k = 0; k < n; k++)
            noise += static_cast<char>(rng() & 0xff);
    }
    unix_send(guest.agent_socket(), noise, 512);
    unix_send(guest.agent_socket(), std::string(64 * 1024, '\0'));

    rpc_daemon d(dir, guest.agent_socket(), "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output() << guest.console();
    // The kernel saw the noise and rejected it (the count is in its session line).
    auto rejected = guest.wait_for_console_match(
        std::regex("agent: host session .*; (\\d+) frames rejected"), 10s);
    ASSERT_TRUE(rejected) << guest.console();
    EXPECT_GT(std::stoul(*rejected), 0u) << guest.console();
    EXPECT_EQ(guest.console().find("panic"), std::string::npos) << guest.console();

    c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    json p = c.call("process.spawn", {{"argv", {"/bin/fib", "5"}}});
    ASSERT_TRUE(p.contains("result")) << p.dump();
    EXPECT_EQ(read_hits(c, probe["result"]["id"], p["result"]["pid"], 15, 30s).hits, 15);
    c.call("probe.remove", {{"id", probe["result"]["id"]}});

    std::string out = run_gdb(dir, "gdb", "fib",
                              {"target extended-remote 127.0.0.1:" + std::to_string(d.rsp_port()),
                               "set remote exec-file /bin/fib", "break fib", "run 3", "p n",
                               "delete", "continue"});
    EXPECT_NE(out.find("Breakpoint 1, fib (n=n@entry=3)"), std::string::npos) << out;
    EXPECT_NE(out.find("exited normally"), std::string::npos) << out;
    EXPECT_TRUE(d.process().running());
}

} // namespace
} // namespace ruprobes::test
