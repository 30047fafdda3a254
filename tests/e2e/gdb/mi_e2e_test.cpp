// gdb/MI (gdb-multiarch --interpreter=mi2, run by ruprobes-gdb) against ruprobesd and the kernel
// in QEMU, with the commands the code-debug extension of VS Code issues; assertions on the MI
// records.
#include "gdb_session.hpp"

#include <thread>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

class mi_client {
public:
    mi_client(const temp_dir& dir, const std::string& program) {
        spawn_options o;
        // Through ruprobes-gdb, as docs/vscode/launch.json's Native Debug configuration runs it.
        o.argv = {std::string(bin_dir) + "/ruprobes-gdb", "--interpreter=mi2", "-nx", "-q",
                  std::string(user_dir) + "/" + program};
        o.output_file = dir.file("mi.log");
        o.stdin_pipe = true;
        gdb_ = std::make_unique<child_process>(o);
    }
    ~mi_client() { gdb_->stop(); }

    // Sends `command` with a fresh token and waits for its result record; the output from the
    // command on (result and everything after it so far).
    std::string run(const std::string& command, std::chrono::milliseconds timeout = 30s) {
        std::string token = std::to_string(++token_);
        size_t from = gdb_->output().size();
        gdb_->write_stdin(token + command + "\n");
        std::string needle = "\n" + token + "^";
        auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            std::string out = gdb_->output();
            auto at = out.find(needle, from == 0 ? 0 : from - 1);
            if (at != std::string::npos && out.find('\n', at + 1) != std::string::npos)
                return out.substr(at + 1);
            std::this_thread::sleep_for(20ms);
        }
        ADD_FAILURE() << "no result for " << command << ":\n" << gdb_->output();
        return {};
    }

    // Waits for the next *stopped record after `from` (an offset into the output).
    std::string wait_stopped(size_t from, std::chrono::milliseconds timeout = 30s) {
        auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            std::string out = gdb_->output();
            auto at = out.find("*stopped", from);
            if (at != std::string::npos && out.find('\n', at) != std::string::npos)
                return out.substr(at, out.find('\n', at) - at);
            std::this_thread::sleep_for(20ms);
        }
        ADD_FAILURE() << "no *stopped record:\n" << gdb_->output();
        return {};
    }

    // Runs an execution command: its ^running, then the *stopped that ends it.
    std::string exec(const std::string& command) {
        size_t from = gdb_->output().size();
        std::string r = run(command);
        EXPECT_NE(r.find("^running"), std::string::npos) << r;
        return wait_stopped(from);
    }

    size_t output_size() const { return gdb_->output().size(); }

    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        return gdb_->wait_exit(timeout);
    }

private:
    std::unique_ptr<child_process> gdb_;
    int token_ = 0;
};

TEST(gdb_mi, code_debug_session) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/fib 5"});
    mi_client mi(dir, "fib");
    EXPECT_NE(mi.run("-gdb-set pagination off").find("^done"), std::string::npos);
    std::string r = mi.run("-target-select remote 127.0.0.1:" + d.port());
    EXPECT_NE(r.find("^connected"), std::string::npos) << r;

    r = mi.run("-break-insert fib");
    EXPECT_NE(r.find("^done,bkpt={number=\"1\""), std::string::npos) << r;
    EXPECT_NE(r.find("func=\"fib\""), std::string::npos) << r;

    std::string stop = mi.exec("-exec-continue");
    EXPECT_NE(stop.find("reason=\"breakpoint-hit\""), std::string::npos) << stop;
    EXPECT_NE(stop.find("func=\"fib\""), std::string::npos) << stop;
    EXPECT_NE(stop.find("value=\"5\""), std::string::npos) << stop;

    r = mi.run("-stack-list-frames");
    EXPECT_NE(r.find("^done,stack=[frame={level=\"0\""), std::string::npos) << r;
    EXPECT_NE(r.find("func=\"main\""), std::string::npos) << r;

    r = mi.run("-data-list-register-names");
    EXPECT_NE(r.find("^done,register-names=[\"zero\",\"ra\",\"sp\""), std::string::npos) << r;
    EXPECT_NE(r.find("\"pc\""), std::string::npos) << r;

    r = mi.run("-data-list-register-values x 32");
    EXPECT_NE(r.find("^done,register-values=[{number=\"32\",value=\"0x"), std::string::npos) << r;

    r = mi.run("-data-read-memory-bytes $pc 4");
    EXPECT_NE(r.find("^done,memory=[{begin=\"0x"), std::string::npos) << r;
    EXPECT_EQ(r.find("contents=\"02900000\""), std::string::npos) << r; // not an ebreak

    stop = mi.exec("-exec-step-instruction");
    EXPECT_NE(stop.find("reason=\"end-stepping-range\""), std::string::npos) << stop;

    stop = mi.exec("-exec-next");
    EXPECT_NE(stop.find("*stopped"), std::string::npos) << stop;

    r = mi.run("-break-delete 1");
    EXPECT_NE(r.find("^done"), std::string::npos) << r;

    stop = mi.exec("-exec-finish");
    EXPECT_NE(stop.find("reason=\"function-finished\""), std::string::npos) << stop;
    EXPECT_NE(stop.find("gdb-result-var=\"$1\",return-value=\"5\""), std::string::npos) << stop;

    stop = mi.exec("-exec-continue");
    EXPECT_NE(stop.find("reason=\"exited-normally\""), std::string::npos) << stop;
    EXPECT_TRUE(d.wait_for_console("fib(5) = 5", 10s)) << d.console();
}

// Native Debug's pause: with its set-up command `-gdb-set target-async on`, -exec-interrupt while
// the program runs stops it with SIGINT where it is.
TEST(gdb_mi, native_debug_pause_with_target_async) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/spin"});
    mi_client mi(dir, "spin");
    EXPECT_NE(mi.run("-gdb-set target-async on").find("^done"), std::string::npos);
    std::string r = mi.run("-target-select remote 127.0.0.1:" + d.port());
    EXPECT_NE(r.find("^connected"), std::string::npos) << r;
    r = mi.run("-exec-continue");
    EXPECT_NE(r.find("^running"), std::string::npos) << r;
    ASSERT_TRUE(d.wait_for_console("spin: pid ", 30s)) << d.console();
    size_t from = mi.output_size();
    r = mi.run("-exec-interrupt");
    EXPECT_NE(r.find("^done"), std::string::npos) << r;
    std::string stop = mi.wait_stopped(from);
    EXPECT_NE(stop.find("reason=\"signal-received\",signal-name=\"SIGINT\""), std::string::npos)
        << stop;
    EXPECT_NE(stop.find("func=\"main\""), std::string::npos) << stop;
    r = mi.run("-stack-list-frames");
    EXPECT_NE(r.find("^done,stack=[frame={level=\"0\""), std::string::npos) << r;
}

// The guest's processes as a second gdb lists them (`info os processes`).
std::string guest_processes(const temp_dir& dir, const daemon_with_guest& d) {
    return run_gdb(dir, "ps", "spin",
                   {"target extended-remote 127.0.0.1:" + d.port(), "info os processes",
                    "echo listed\\n"}); // batch gdb stops at the first error
}

const std::regex spin_running("/bin/spin\\s+running");

// Native Debug's Disconnect for a remote attach is -gdb-exit: gdb kills a process the server
// started for it (qAttached 0), as under gdbserver (docs/vscode.md).
TEST(gdb_mi, native_debug_disconnect_gdb_exit_kills_the_spawned_process) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/spin"});
    {
        mi_client mi(dir, "spin");
        std::string r = mi.run("-target-select remote 127.0.0.1:" + d.port());
        EXPECT_NE(r.find("^connected"), std::string::npos) << r;
        r = mi.run("-gdb-exit");
        EXPECT_NE(r.find("^exit"), std::string::npos) << r;
        EXPECT_EQ(mi.wait_exit(30s), 0);
    }
    std::string ps = guest_processes(dir, d);
    EXPECT_NE(ps.find("listed"), std::string::npos) << ps;
    EXPECT_FALSE(std::regex_search(ps, spin_running)) << ps;
}

// `detach` typed in the Debug Console first (-target-detach here) leaves it running.
TEST(gdb_mi, detach_before_gdb_exit_leaves_the_spawned_process_running) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/spin"});
    {
        mi_client mi(dir, "spin");
        std::string r = mi.run("-target-select remote 127.0.0.1:" + d.port());
        EXPECT_NE(r.find("^connected"), std::string::npos) << r;
        r = mi.run("-interpreter-exec console \"detach\"");
        EXPECT_NE(r.find("^done"), std::string::npos) << r;
        r = mi.run("-gdb-exit");
        EXPECT_NE(r.find("^exit"), std::string::npos) << r;
        EXPECT_EQ(mi.wait_exit(30s), 0);
    }
    EXPECT_TRUE(d.wait_for_console("spin: pid ", 30s)) << d.console();
    std::string ps = guest_processes(dir, d);
    EXPECT_TRUE(std::regex_search(ps, spin_running)) << ps;
}

} // namespace
