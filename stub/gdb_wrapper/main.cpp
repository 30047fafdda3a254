// ruprobes-gdb: gdb-multiarch for debug adapters. Runs gdb with the same arguments, standard
// input and standard error, and passes its standard output on whole lines at a time (see
// line_buffer.hpp). Signals sent to the wrapper go to gdb; it exits as gdb does.
#include "gdb_wrapper/line_buffer.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr const char* help_text =
    "Usage: ruprobes-gdb [GDB-ARGUMENTS...]\n"
    "Runs gdb-multiarch (or the program the environment variable RUPROBES_GDB names) with these\n"
    "arguments, standard input and standard error. When standard output is not a terminal,\n"
    "gdb's standard output is passed on whole lines at a time, never a partial line in one\n"
    "write: debug adapters that parse each read as whole records (VS Code's Native Debug) need\n"
    "that with gdb 13's MI. On a terminal, gdb runs as it is. SIGINT, SIGTERM, SIGHUP, SIGQUIT,\n"
    "SIGUSR1 and SIGUSR2 sent to ruprobes-gdb go to gdb (a terminal's ^C reaches gdb directly);\n"
    "ruprobes-gdb exits with gdb's exit status, or dies of the signal that killed gdb.\n"
    "\n"
    "gdb's own help follows.\n\n";

constexpr int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

volatile sig_atomic_t gdb_pid = 0;

void forward_signal(int sig, siginfo_t* info, void*) {
    // A signal from the terminal went to the whole foreground process group, gdb included.
    if (info != nullptr && info->si_code == SI_KERNEL)
        return;
    if (gdb_pid > 0)
        kill(gdb_pid, sig);
}

const char* gdb_program() {
    const char* gdb = std::getenv("RUPROBES_GDB");
    return gdb != nullptr && *gdb != '\0' ? gdb : "gdb-multiarch";
}

[[noreturn]] void exec_gdb(char** argv) {
    argv[0] = const_cast<char*>(gdb_program());
    execvp(argv[0], argv);
    std::fprintf(stderr, "ruprobes-gdb: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// Ends this process the way gdb ended.
int exit_like(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        std::signal(sig, SIG_DFL);
        sigset_t unblock;
        sigemptyset(&unblock);
        sigaddset(&unblock, sig);
        sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
        raise(sig);
        return 128 + sig; // a signal that does not kill (none of gdb's fatal ones)
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
        std::fputs(help_text, stdout);
        std::fflush(stdout);
    }
    if (isatty(STDOUT_FILENO))
        exec_gdb(argv);

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        std::perror("ruprobes-gdb: pipe");
        return 1;
    }
    // Signals wait until gdb's pid is known; gdb starts with the mask and handlers it would
    // have had.
    sigset_t forwarded, previous;
    sigemptyset(&forwarded);
    for (int sig : forwarded_signals)
        sigaddset(&forwarded, sig);
    sigprocmask(SIG_BLOCK, &forwarded, &previous);
    struct sigaction previous_actions[std::size(forwarded_signals)];
    for (size_t i = 0; i < std::size(forwarded_signals); i++) {
        struct sigaction sa {};
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(forwarded_signals[i], &sa, &previous_actions[i]);
    }

    pid_t pid = fork();
    if (pid < 0) {
        std::perror("ruprobes-gdb: fork");
        return 1;
    }
    if (pid == 0) {
        for (size_t i = 0; i < std::size(forwarded_signals); i++)
            sigaction(forwarded_signals[i], &previous_actions[i], nullptr);
        sigprocmask(SIG_SETMASK, &previous, nullptr);
        if (dup2(out[1], STDOUT_FILENO) < 0)
            _exit(127);
        exec_gdb(argv);
    }
    gdb_pid = pid;
    close(out[1]);
    sigprocmask(SIG_SETMASK, &previous, nullptr);

    ruprobes::gdb_wrapper::line_buffer lines;
    static char buf[1 << 16];
    bool output_open = true;
    for (;;) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        std::string whole = lines.take_lines(std::string_view(buf, static_cast<size_t>(n)));
        if (output_open)
            output_open = write_all(STDOUT_FILENO, whole);
    }
    if (output_open)
        write_all(STDOUT_FILENO, lines.take_rest());
    close(out[0]);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            std::perror("ruprobes-gdb: waitpid");
            return 1;
        }
    }
    return exit_like(status);
}
