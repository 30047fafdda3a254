#include "ruprobes_test/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ruprobes::test {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds(10);

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

} // namespace

child_process::child_process(spawn_options options) : options_(std::move(options)) {
    if (options_.argv.empty()) {
        throw std::runtime_error("child_process: empty argv");
    }
    int out = open(options_.output_file.empty() ? "/dev/null" : options_.output_file.c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        throw std::runtime_error("child_process: cannot create " + options_.output_file);
    }
    int in_pipe[2] = {-1, -1};
    if (options_.stdin_pipe && pipe2(in_pipe, O_CLOEXEC) != 0) {
        close(out);
        throw std::runtime_error("child_process: pipe failed");
    }
    std::vector<char*> argv;
    for (auto& a : options_.argv) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    pid_ = fork();
    if (pid_ < 0) {
        close(out);
        throw std::runtime_error("child_process: fork failed");
    }
    if (pid_ == 0) {
        // Own process group, so stop() reaches everything the program starts.
        setpgid(0, 0);
        int in = options_.stdin_pipe ? in_pipe[0] : open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        for (const auto& e : options_.env) {
            putenv(const_cast<char*>(e.c_str()));
        }
        if (!options_.cwd.empty() && chdir(options_.cwd.c_str()) != 0) {
            _exit(126);
        }
        execvp(argv[0], argv.data());
        dprintf(2, "child_process: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid_, pid_);
    close(out);
    if (options_.stdin_pipe) {
        close(in_pipe[0]);
        stdin_fd_ = in_pipe[1];
    }
}

child_process::~child_process() {
    stop(std::chrono::milliseconds(500));
}

std::string child_process::output() const {
    if (options_.output_file.empty()) {
        return {};
    }
    std::ifstream in(options_.output_file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<std::string> first_match(const std::string& text, const std::regex& pattern) {
    std::smatch m;
    if (!std::regex_search(text, m, pattern)) {
        return std::nullopt;
    }
    return m.size() > 1 ? m[1].str() : m[0].str();
}

bool child_process::wait_for_output(std::string_view needle,
                                    std::chrono::milliseconds timeout) const {
    return wait_for(
               [&](const std::string& out) -> std::optional<std::string> {
                   if (out.find(needle) == std::string::npos)
                       return std::nullopt;
                   return std::string(needle);
               },
               timeout)
        .has_value();
}

std::optional<std::string> child_process::wait_for_match(const std::regex& pattern,
                                                         std::chrono::milliseconds timeout) const {
    return wait_for([&](const std::string& out) { return first_match(out, pattern); }, timeout);
}

bool child_process::has_exited() const {
    if (status_) {
        return true;
    }
    // WNOWAIT leaves the exit status for wait_exit; an exited child is a zombie until then, which
    // kill(pid, 0) would still find.
    siginfo_t info{};
    return pid_ > 0 &&
           waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
}

std::optional<std::string> child_process::wait_for(const output_test& found,
                                                   std::chrono::milliseconds timeout) const {
    auto deadline = clock::now() + timeout;
    for (;;) {
        if (auto r = found(output())) {
            return r;
        }
        if (clock::now() >= deadline) {
            return std::nullopt;
        }
        // A program that has exited will not write it any more; one last look.
        if (has_exited()) {
            return found(output());
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!status_) {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = decode_status(status);
            break;
        }
        if (r < 0 && errno != EINTR) {
            status_ = -1;
            break;
        }
        if (clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    return status_;
}

bool child_process::running() {
    return !wait_exit(std::chrono::milliseconds(0));
}

void child_process::write_stdin(std::string_view data) {
    if (stdin_fd_ < 0) {
        throw std::runtime_error("child_process: stdin is not a pipe");
    }
    while (!data.empty()) {
        ssize_t n = write(stdin_fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error("child_process: write to stdin failed");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void child_process::close_stdin() {
    if (stdin_fd_ >= 0) {
        close(stdin_fd_);
        stdin_fd_ = -1;
    }
}

void child_process::stop(std::chrono::milliseconds grace) {
    close_stdin();
    if (pid_ <= 0) {
        return;
    }
    if (!status_) {
        kill(-pid_, SIGTERM);
        kill(pid_, SIGTERM);
        if (!wait_exit(grace)) {
            kill(-pid_, SIGKILL);
            kill(pid_, SIGKILL);
            wait_exit(std::chrono::milliseconds(5000));
        }
    }
    // Whatever the program left behind in its group goes too.
    kill(-pid_, SIGKILL);
}

void child_process::signal(int sig) {
    if (pid_ > 0 && !status_) {
        kill(pid_, sig);
    }
}

} // namespace ruprobes::test
