#include "target_model/signal_numbers.hpp"

#include <array>
#include <utility>

namespace ruprobes::target {

namespace {

constexpr int gdb_unknown = 143; // GDB_SIGNAL_UNKNOWN

// {Linux, gdb} for Linux signals 1..31 (asm-generic/signal.h; gdb/signals.def).
constexpr std::array<std::pair<int, int>, 30> pairs = {{
    {1, 1},   // SIGHUP
    {2, 2},   // SIGINT
    {3, 3},   // SIGQUIT
    {4, 4},   // SIGILL
    {5, 5},   // SIGTRAP
    {6, 6},   // SIGABRT
    {7, 10},  // SIGBUS
    {8, 8},   // SIGFPE
    {9, 9},   // SIGKILL
    {10, 30}, // SIGUSR1
    {11, 11}, // SIGSEGV
    {12, 31}, // SIGUSR2
    {13, 13}, // SIGPIPE
    {14, 14}, // SIGALRM
    {15, 15}, // SIGTERM
    {17, 20}, // SIGCHLD
    {18, 19}, // SIGCONT
    {19, 17}, // SIGSTOP
    {20, 18}, // SIGTSTP
    {21, 21}, // SIGTTIN
    {22, 22}, // SIGTTOU
    {23, 16}, // SIGURG
    {24, 24}, // SIGXCPU
    {25, 25}, // SIGXFSZ
    {26, 26}, // SIGVTALRM
    {27, 27}, // SIGPROF
    {28, 28}, // SIGWINCH
    {29, 23}, // SIGIO
    {30, 32}, // SIGPWR
    {31, 12}, // SIGSYS
}};           // Linux 16 (SIGSTKFLT) has no gdb name

} // namespace

int gdb_signal_of_linux(int linux_signal) {
    if (linux_signal == 0)
        return 0;
    for (auto [l, g] : pairs) {
        if (l == linux_signal)
            return g;
    }
    return gdb_unknown;
}

int linux_signal_of_gdb(int gdb_signal) {
    for (auto [l, g] : pairs) {
        if (g == gdb_signal)
            return l;
    }
    return 0;
}

} // namespace ruprobes::target
