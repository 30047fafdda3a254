// build/bin/ruprobes-gdb around a fake gdb (a shell script named by RUPROBES_GDB). The wrapper's
// standard output is a SOCK_SEQPACKET socket, so the test receives each of its write()s as one
// record and sees exactly how it split the output.
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

// ruprobes-gdb running a fake gdb; every fd and the process are cleaned up by the destructor.
class wrapped_fake_gdb {
public:
    wrapped_fake_gdb(const temp_dir& dir, const std::string& script,
                     std::string first_argument = "--interpreter=mi2") {
        std::string fake = dir.file("fake-gdb");
        std::ofstream(fake) << "#!/bin/sh\n" << script;
        chmod(fake.c_str(), 0755);

        int out[2], in[2], err[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, out) != 0 ||
            pipe2(in, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
            throw std::runtime_error("socketpair/pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        std::string wrapper = std::string(bin_dir) + "/ruprobes-gdb";
        std::string gdb_env = "RUPROBES_GDB=" + fake;
        std::vector<char*> env;
        for (char** e = environ; *e != nullptr; e++)
            env.push_back(*e);
        env.push_back(gdb_env.data());
        env.push_back(nullptr);
        char* argv[] = {wrapper.data(), first_argument.data(), nullptr};
        int rc = posix_spawn(&pid_, wrapper.c_str(), &fa, nullptr, argv, env.data());
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        close(err[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        stderr_ = err[0];
        if (rc != 0)
            throw std::runtime_error("posix_spawn " + wrapper);
    }
    ~wrapped_fake_gdb() {
        if (pid_ > 0 && !status_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        for (int fd : {stdin_, stdout_, stderr_})
            if (fd >= 0)
                close(fd);
    }

    pid_t pid() const { return pid_; }

    // Waits (up to 10 s) until the fake's standard error contains `needle`.
    bool wait_for_stderr(const std::string& needle) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (err_.find(needle) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{stderr_, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0)
                return false;
            char buf[256];
            ssize_t n = read(stderr_, buf, sizeof buf);
            if (n <= 0)
                return false;
            err_.append(buf, static_cast<size_t>(n));
        }
        return true;
    }

    const std::string& stderr_text() const { return err_; }

    void send(const std::string& line) {
        ASSERT_EQ(write(stdin_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    }

    // Every write() of the wrapper until it closes its standard output (10 s at most).
    std::vector<std::string> writes() {
        std::vector<std::string> records;
        auto deadline = std::chrono::steady_clock::now() + 10s;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{stdout_, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                ADD_FAILURE() << "the wrapper's output did not end";
                return records;
            }
            char buf[4096];
            ssize_t n = recv(stdout_, buf, sizeof buf, 0);
            if (n <= 0)
                return records;
            records.emplace_back(buf, static_cast<size_t>(n));
        }
    }

    // The wrapper's wait status (10 s at most).
    std::optional<int> wait_status() {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!status_ && std::chrono::steady_clock::now() < deadline) {
            int st = 0;
            pid_t r = waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                status_ = st;
                break;
            }
            pollfd none{-1, 0, 0};
            poll(&none, 0, 10); // waitpid has no deadline of its own
        }
        return status_;
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1, stderr_ = -1;
    std::string err_;
    std::optional<int> status_;
};

// Waits (up to 10 s) until nothing is left to read in the pipe `fd` refers to.
bool wait_until_drained(int fd) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        int pending = -1;
        if (ioctl(fd, FIONREAD, &pending) != 0)
            return false;
        if (pending == 0)
            return true;
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        pollfd none{-1, 0, 0};
        poll(&none, 0, 5);
    }
}

TEST(ruprobes_gdb, a_token_and_its_record_written_apart_arrive_in_one_write) {
    temp_dir dir;
    // gdb 13 writes an MI reply's token, then the record. The fake waits for the test between
    // the two, and the test waits until the wrapper has read the token out of the fake's pipe:
    // a wrapper that passed the token on by itself would be seen doing it.
    wrapped_fake_gdb w(dir, "printf '12'\n"
                            "echo \"token-written $$.\" >&2\n"
                            "read go\n"
                            "printf '^done\\n(gdb) \\n'\n"
                            "printf 'tail without newline'\n"
                            "exit 7\n");
    ASSERT_TRUE(w.wait_for_stderr(".\n"));
    std::string fake_pid = w.stderr_text().substr(std::string("token-written ").size());
    fake_pid.resize(fake_pid.find('.'));
    int pipe_fd = open(("/proc/" + fake_pid + "/fd/1").c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(pipe_fd, 0) << fake_pid;
    EXPECT_TRUE(wait_until_drained(pipe_fd)) << "the wrapper never read the token";
    close(pipe_fd);
    w.send("go\n");
    std::vector<std::string> records = w.writes();
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.front().rfind("12^done\n", 0), 0u) << records.front();
    std::string all;
    for (size_t i = 0; i < records.size(); i++) {
        all += records[i];
        if (i + 1 < records.size()) {
            EXPECT_EQ(records[i].back(), '\n') << "write " << i << ": " << records[i];
        }
    }
    EXPECT_EQ(all, "12^done\n(gdb) \ntail without newline"); // the rest comes out at the end
    auto st = w.wait_status();
    ASSERT_TRUE(st);
    ASSERT_TRUE(WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 7); // gdb's exit status
}

TEST(ruprobes_gdb, a_signal_sent_to_the_wrapper_goes_to_gdb) {
    temp_dir dir;
    // The fake exits 42 on SIGTERM: a wrapper that died of the signal itself instead of passing
    // it on would not exit 42.
    wrapped_fake_gdb w(dir, "trap 'exit 42' TERM\n"
                            "echo ready >&2\n"
                            "while :; do sleep 0.05; done\n");
    ASSERT_TRUE(w.wait_for_stderr("ready"));
    kill(w.pid(), SIGTERM);
    auto st = w.wait_status();
    ASSERT_TRUE(st);
    ASSERT_TRUE(WIFEXITED(*st)) << "wait status " << *st;
    EXPECT_EQ(WEXITSTATUS(*st), 42);
}

TEST(ruprobes_gdb, dies_of_the_signal_that_killed_gdb) {
    temp_dir dir;
    wrapped_fake_gdb w(dir, "kill -KILL $$\n");
    auto st = w.wait_status();
    ASSERT_TRUE(st);
    ASSERT_TRUE(WIFSIGNALED(*st)) << "wait status " << *st;
    EXPECT_EQ(WTERMSIG(*st), SIGKILL);
}

TEST(ruprobes_gdb, help_says_what_it_is_then_gdb_gives_its_own) {
    temp_dir dir;
    wrapped_fake_gdb w(dir, "echo \"gdb got: $*\"\n", "--help");
    std::string all;
    for (const auto& r : w.writes())
        all += r;
    EXPECT_EQ(all.rfind("Usage: ruprobes-gdb [GDB-ARGUMENTS...]\n", 0), 0u) << all;
    EXPECT_NE(all.find("whole lines at a time"), std::string::npos) << all;
    EXPECT_NE(all.find("gdb got: --help\n"), std::string::npos) << all;
    auto st = w.wait_status();
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

} // namespace
