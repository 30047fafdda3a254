// Faults with the real kernel: gdb killed while its process is stopped (the daemon detaches:
// breakpoints removed, process resumed), and QEMU exiting under a running debug session (the
// client gets an exit reply; the daemon stays up and reconnects to the next QEMU).
#include "gdb_session.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"

#include <csignal>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

TEST(gdb_faults, gdb_killed_while_stopped_leaves_the_program_running) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/fib 7"});
    spawn_options o;
    o.argv = gdb_batch_argv("fib", {"target remote 127.0.0.1:" + d.port(), "break fib", "continue",
                                    "echo STOPPED\\n", "shell sleep 60"});
    o.output_file = dir.file("gdb.log");
    {
        child_process gdb(o);
        ASSERT_TRUE(gdb.wait_for_output("STOPPED", 30s)) << gdb.output();
        EXPECT_FALSE(d.wait_for_console("fib(7) = 13", 500ms));
        gdb.signal(SIGKILL);
        gdb.wait_exit(10s);
    }
    // The breakpoint went with gdb and fib ran to its end.
    EXPECT_TRUE(d.wait_for_console("fib(7) = 13", 30s)) << d.console();
}

TEST(gdb_faults, qemu_exit_gives_an_exit_reply_and_the_daemon_reconnects) {
    temp_dir dir;
    guest_options g;
    g.append = "ruprobes.stay";
    g.agent_channel = true;
    auto qemu = std::make_unique<qemu_guest>(dir, g);
    spawn_options dopts;
    dopts.argv = {std::string(bin_dir) + "/ruprobesd",
                  "--qemu-socket",
                  qemu->agent_socket(),
                  "--rsp-listen",
                  "127.0.0.1:0",
                  "--no-rpc",
                  "--spawn",
                  "/bin/spin",
                  "--log-level",
                  "debug"};
    dopts.output_file = dir.file("daemon.log");
    child_process daemon(dopts);
    ASSERT_TRUE(daemon.wait_for_output("channel: connected", 30s)) << daemon.output();
    auto listening = first_match(daemon.output(), rsp_listening_line);
    ASSERT_TRUE(listening) << daemon.output();
    std::string port = *listening;

    spawn_options o;
    o.argv = gdb_batch_argv(
        "spin", {"target remote 127.0.0.1:" + port, "continue", "echo AFTER\\n", "info inferiors"});
    o.output_file = dir.file("gdb.log");
    child_process gdb(o);
    ASSERT_TRUE(qemu->wait_for_console("spin: pid", 30s)) << qemu->console();
    qemu->process().stop(); // QEMU goes away while gdb waits for spin to stop
    ASSERT_TRUE(gdb.wait_exit(30s).has_value()) << gdb.output();
    std::string out = gdb.output();
    EXPECT_TRUE(out.find("Program terminated with signal SIGKILL") != std::string::npos) << out;
    EXPECT_TRUE(daemon.running());

    // A new QEMU on the same socket: the daemon finds it and serves the next client.
    qemu = std::make_unique<qemu_guest>(dir, g);
    ASSERT_TRUE(qemu->wait_for_console("agent: host session", 60s))
        << qemu->console() << daemon.output();
    std::string out2 =
        run_gdb(dir, "gdb2", "fib",
                {"target extended-remote 127.0.0.1:" + port, "set remote exec-file /bin/fib",
                 "break fib", "run 3", "p n", "kill"});
    EXPECT_TRUE(out2.find("Breakpoint 1, fib (n=n@entry=3)") != std::string::npos) << out2;
    daemon.stop();
}

} // namespace
