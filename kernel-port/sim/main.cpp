// ruprobes-simkernel: the simulated kernel as a host program (README.md in this folder).
#include "sim_kernel.hpp"

#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char* const usage_text =
    "usage: ruprobes-simkernel [options]\n"
    "\n"
    "A small simulated RISC-V kernel on the host: runs the guest's user programs (static RV64\n"
    "ELF files) on the probe engine's instruction simulator, with the probe engine linked in.\n"
    "\n"
    "  --programs DIR     host directory of the programs, known inside as /bin/<name>\n"
    "                     (default: " RUPROBES_SIM_DEFAULT_PROGRAMS ")\n"
    "  --run 'CMD ARGS'   start a process at boot (repeatable), e.g. --run '/bin/fib 15'\n"
    "  --quantum N        instructions a process runs before the next one's turn (default 10000)\n"
    "  --exit-when-idle   exit when no process is left (the default without --agent-socket)\n"
    "  --help             this text\n";

std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    return words;
}

uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace

int main(int argc, char** argv) {
    sim::kernel_config config;
    config.programs_dir = RUPROBES_SIM_DEFAULT_PROGRAMS;
    std::vector<std::string> commands;
    bool exit_when_idle = false;
    for (int i = 1; i < argc; i++) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "ruprobes-simkernel: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (arg == "--programs") {
            config.programs_dir = value();
        } else if (arg == "--run") {
            commands.push_back(value());
        } else if (arg == "--quantum") {
            const std::string v = value();
            char* end = nullptr;
            const unsigned long q = std::strtoul(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || q == 0 || q > 100'000'000) {
                std::fprintf(stderr, "ruprobes-simkernel: bad --quantum '%s'\n", v.c_str());
                return 2;
            }
            config.quantum = static_cast<uint32_t>(q);
        } else if (arg == "--exit-when-idle") {
            exit_when_idle = true;
        } else {
            std::fprintf(stderr, "ruprobes-simkernel: unknown option '%s' (see --help)\n",
                         arg.c_str());
            return 2;
        }
    }
    exit_when_idle = true;

    try {
        sim::kernel k(config);
        for (const std::string& command : commands) {
            const std::vector<std::string> words = split_words(command);
            if (words.empty()) {
                continue;
            }
            const long pid = k.spawn(words[0], words);
            if (pid < 0) {
                k.log("cannot start '" + command + "': error " + std::to_string(-pid));
            } else {
                k.log("started pid " + std::to_string(pid) + ": " + command);
            }
        }
        for (;;) {
            if (k.run_next()) {
                continue;
            }
            if (exit_when_idle && k.live_count() == 0) {
                break;
            }
            const uint64_t wake = k.next_wake_ns();
            const uint64_t now = now_ns();
            int timeout_ms = 10;
            if (wake != 0) {
                timeout_ms = wake <= now ? 0 : static_cast<int>((wake - now) / 1'000'000);
                timeout_ms = timeout_ms > 10 ? 10 : timeout_ms;
            }
            poll(nullptr, 0, timeout_ms);
        }
        k.log("no process left: exiting");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ruprobes-simkernel: %s\n", e.what());
        return 1;
    }
    return 0;
}
