// ruprobes-simkernel: the simulated kernel as a host program (README.md in this folder).
#include "agent_port.hpp"
#include "sim_kernel.hpp"
#include "socket_channel.hpp"

#include "ruprobes/agent.h"

#include <poll.h>

#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
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
    "  --agent-socket PATH  listen on unix socket PATH for ruprobesd (ruprobesd --qemu-socket\n"
    "                     PATH connects to it, as to QEMU's agent channel)\n"
    "  --programs DIR     host directory of the programs, known inside as /bin/<name>\n"
    "                     (default: " RUPROBES_SIM_DEFAULT_PROGRAMS ")\n"
    "  --run 'CMD ARGS'   start a process at boot (repeatable), e.g. --run '/bin/fib 15'\n"
    "  --quantum N        instructions a process runs before the next one's turn (default 10000)\n"
    "  --exit-when-idle   exit when no process is left (the default without --agent-socket)\n"
    "  --harts N          tell the agent the kernel has N harts (1..8, default 1) and take each\n"
    "                     trap on the next one in turn: hit records spread over its per-hart "
    "rings\n"
    "  --help             this text\n";

std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    return words;
}

volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) {
    stop_requested = 1;
}

} // namespace

int main(int argc, char** argv) {
    sim::kernel_config config;
    config.programs_dir = RUPROBES_SIM_DEFAULT_PROGRAMS;
    std::vector<std::string> commands;
    std::string agent_socket;
    bool exit_when_idle = false;
    uint32_t harts = 1;
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
        } else if (arg == "--agent-socket") {
            agent_socket = value();
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
        } else if (arg == "--harts") {
            const std::string v = value();
            char* end = nullptr;
            const unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || n == 0 || n > RUPROBES_AGENT_MAX_HARTS) {
                std::fprintf(stderr, "ruprobes-simkernel: bad --harts '%s'\n", v.c_str());
                return 2;
            }
            harts = static_cast<uint32_t>(n);
        } else if (arg == "--exit-when-idle") {
            exit_when_idle = exit_when_idle || agent_socket.empty();
        } else {
            std::fprintf(stderr, "ruprobes-simkernel: unknown option '%s' (see --help)\n",
                         arg.c_str());
            return 2;
        }
    }
    exit_when_idle = exit_when_idle || agent_socket.empty();

    try {
        sim::kernel k(config);
        std::unique_ptr<sim::socket_channel> channel;
        std::unique_ptr<sim::agent_port> agent;
        if (!agent_socket.empty()) {
            channel = std::make_unique<sim::socket_channel>(agent_socket);
            agent = std::make_unique<sim::agent_port>(k, *channel, harts);
            k.log("agent listening on " + agent_socket);
        }
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
        // The main loop: the agent's round when it has work or is due, then one quantum of the
        // next process; idle, it sleeps until the socket has something, a sleeper wakes or the
        // agent is due (10 ms at most).
        std::signal(SIGTERM, request_stop);
        std::signal(SIGINT, request_stop);
        while (stop_requested == 0) {
            if (agent) {
                agent->poll_if_due();
                agent->hold_while_congested();
            }
            if (k.run_next()) {
                continue;
            }
            if (exit_when_idle && k.live_count() == 0) {
                break;
            }
            const uint64_t wake = k.next_wake_ns();
            const uint64_t now = sim::monotonic_ns();
            int timeout_ms = 10;
            if (wake != 0) {
                timeout_ms = wake <= now ? 0 : static_cast<int>((wake - now) / 1'000'000);
                timeout_ms = timeout_ms > 10 ? 10 : timeout_ms;
            }
            if (agent) {
                timeout_ms = agent->due_in_ms(timeout_ms);
                channel->wait(timeout_ms);
            } else {
                poll(nullptr, 0, timeout_ms);
            }
        }
        k.log(stop_requested != 0 ? "stopped by a signal" : "no process left: exiting");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ruprobes-simkernel: %s\n", e.what());
        return 1;
    }
    return 0;
}
