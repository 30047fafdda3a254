#include "daemon/qemu_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ruprobes::daemon {

qemu_process::qemu_process(const launch::qemu_options& options, const std::string& log_file) {
    std::vector<std::string> argv = launch::qemu_command(options);
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    // The log is opened before the fork so an error is reported here, not lost in the child.
    int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        throw std::runtime_error("cannot open " + log_file + ": " + std::strerror(errno));
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // A pipe with close-on-exec tells the parent whether exec worked (errno, or EOF on success).
    int status_pipe[2];
    if (null_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(log_fd);
        if (null_fd >= 0)
            ::close(null_fd);
        throw std::runtime_error(std::string("cannot start QEMU: ") + std::strerror(err));
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Only async-signal-safe calls from here on. QEMU must not outlive the daemon, however
        // the daemon dies (a crash, SIGKILL): the kernel sends it SIGKILL when the parent goes.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127); // the daemon died before prctl took effect
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::execvp(args[0], args.data());
        int err = errno;
        (void)!::write(status_pipe[1], &err, sizeof err);
        ::_exit(127);
    }
    int fork_errno = errno;
    ::close(status_pipe[1]);
    ::close(log_fd);
    ::close(null_fd);
    if (pid_ < 0) {
        ::close(status_pipe[0]);
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(fork_errno));
    }
    int exec_errno = 0;
    ssize_t n;
    do {
        n = ::read(status_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    ::close(status_pipe[0]);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(exec_errno));
    }
}

qemu_process::~qemu_process() {
    stop();
}

bool qemu_process::running() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
        pid_ = -1;
        return false;
    }
    return true;
}

void qemu_process::stop() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (!running())
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

} // namespace ruprobes::daemon
