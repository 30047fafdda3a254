#include "daemon/options.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ruprobes::daemon {

void print_help(FILE* out) {
    std::fprintf(
        out,
        "Usage: ruprobesd [OPTION]...\n"
        "Host daemon of ruprobes: debug (GDB Remote Serial Protocol) and trace (JSON-RPC 2.0)\n"
        "user programs of a RISC-V kernel running under QEMU.\n"
        "\n"
        "Target (one of):\n"
        "      --qemu-socket PATH     connect to a running QEMU's agent virtio-console, exposed\n"
        "                             as a unix socket (-chardev socket,path=PATH,server=on);\n"
        "                             reconnects with backoff when QEMU restarts\n"
        "      --kernel-socket PATH   the same for any kernel that serves the agent channel on a\n"
        "                             unix socket (e.g. ruprobes-simkernel --agent-socket PATH)\n"
        "      --launch KERNEL        start QEMU with KERNEL (e.g. build/guest/kernel.elf) and\n"
        "                             the agent channel; QEMU is stopped when the daemon exits\n"
        "      --qemu-arg ARG         extra QEMU argument for --launch (repeatable)\n"
        "      --append CMDLINE       kernel command line for --launch (default\n"
        "                             \"ruprobes.stay\": the kernel keeps running for the daemon)\n"
        "      --qemu-log FILE        where --launch writes QEMU's console (the kernel log);\n"
        "                             default: ruprobesd-qemu-PID.log in the temp directory\n"
        "      --fake-target          serve an in-memory fake kernel instead (development and\n"
        "                             tests; programs /bin/loop and /bin/count)\n"
        "\n"
        "Front ends:\n"
        "      --rsp-listen HOST:PORT GDB remote protocol server (default 127.0.0.1:1234);\n"
        "                             gdb: target remote / target extended-remote HOST:PORT\n"
        "      --rpc-listen HOST:PORT JSON-RPC 2.0 server (default 127.0.0.1:4242)\n"
        "      --no-rpc               do not start the JSON-RPC server\n"
        "      --allow-remote         allow listening on addresses other than loopback\n"
        "                             (anyone who can connect can read and write the memory\n"
        "                             of the guest's user processes)\n"
        "      --spawn \"CMD ARGS\"     start this guest program (e.g. \"/bin/fib 20\") stopped\n"
        "                             at its entry as soon as the kernel is up; the first gdb\n"
        "                             client that asks for a process ('?') gets it\n"
        "      --ready-timeout SECONDS\n"
        "                             how long a gdb client that needs the kernel waits for it\n"
        "                             to come up before it gets an error (default 30)\n"
        "      --symbols DIR          host copies of the guest's programs (ELF with debug info,\n"
        "                             byte-identical to the guest's): symbol lookups, and gdb's\n"
        "                             reads of program text (default: guest/user next to the\n"
        "                             daemon's bin/ folder, i.e. build/guest/user)\n"
        "      --no-host-step         step every instruction in the kernel (default: a gdb\n"
        "                             single step over a register-only instruction - integer\n"
        "                             arithmetic, lui, auipc, branches, jal - is computed in the\n"
        "                             daemon with the engine's simulator, and the registers go\n"
        "                             to the kernel with the next resume: one kernel round trip\n"
        "                             per gdb breakpoint stop instead of two)\n"
        "\n"
        "Client limits (each port; see stub/daemon/README.md):\n"
        "      --max-connections N    connections per port (default 256); past it a new\n"
        "                             connection replaces the longest-idle one that holds\n"
        "                             nothing, or is refused when all hold something\n"
        "      --write-timeout SEC    drop a client that takes no byte of a write this long\n"
        "                             (default 30)\n"
        "      --idle-timeout SEC     drop a client that holds nothing (no process, no\n"
        "                             subscription, no call) and sends nothing this long\n"
        "                             (default 300)\n"
        "      --message-timeout SEC  drop a client that begins a message (packet, JSON-RPC\n"
        "                             message) and does not finish it this long (default 10)\n"
        "\n"
        "General:\n"
        "      --log-level LEVEL      trace, debug, info, warn, error, off (default info);\n"
        "                             logs go to stderr\n"
        "  -h, --help                 show this help and exit\n"
        "      --version              print the version and exit\n");
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::optional<listen_address> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
        return std::nullopt;
    std::string host = text.substr(0, colon);
    std::string port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        host = "127.0.0.1";
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    unsigned long port = std::stoul(port_text);
    if (port > 65535)
        return std::nullopt;
    return listen_address{host, static_cast<uint16_t>(port)};
}

std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text) {
    if (text.empty() || text.size() > 12 ||
        text.find_first_not_of("0123456789.") != std::string::npos)
        return std::nullopt;
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !(seconds >= 0.01) || seconds > 1e6)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::vector<std::string> split_command(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word)
        out.push_back(word);
    return out;
}

std::optional<daemon_options> parse_options(int argc, const char* const* argv, std::string& error) {
    daemon_options o;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        std::string value;
        bool has_inline = false;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        auto need_value = [&]() -> bool {
            if (has_inline)
                return true;
            if (i + 1 >= argc) {
                error = "option " + arg + " needs a value";
                return false;
            }
            value = argv[++i];
            return true;
        };
        if (arg == "-h" || arg == "--help") {
            o.help = true;
        } else if (arg == "--version") {
            o.version = true;
        } else if (arg == "--allow-remote") {
            o.allow_remote = true;
        } else if (arg == "--fake-target") {
            o.fake_target = true;
        } else if (arg == "--no-rpc") {
            o.rpc_enabled = false;
        } else if (arg == "--no-host-step") {
            o.host_step = false;
        } else if (arg == "--qemu-socket" || arg == "--kernel-socket" || arg == "--launch" ||
                   arg == "--qemu-arg" || arg == "--qemu-log" || arg == "--append" ||
                   arg == "--rsp-listen" || arg == "--rpc-listen" || arg == "--spawn" ||
                   arg == "--symbols" || arg == "--log-level" || arg == "--max-connections" ||
                   arg == "--write-timeout" || arg == "--idle-timeout" ||
                   arg == "--message-timeout" || arg == "--ready-timeout") {
            if (!need_value())
                return std::nullopt;
            if (arg == "--qemu-socket" || arg == "--kernel-socket") {
                o.qemu_socket = value;
            } else if (arg == "--launch") {
                o.launch_kernel = value;
            } else if (arg == "--qemu-arg") {
                o.qemu_args.push_back(value);
            } else if (arg == "--qemu-log") {
                o.qemu_log = value;
            } else if (arg == "--append") {
                o.append = value;
            } else if (arg == "--rsp-listen" || arg == "--rpc-listen") {
                auto addr = parse_listen(value);
                if (!addr) {
                    error = arg + ": expected HOST:PORT, got '" + value + "'";
                    return std::nullopt;
                }
                (arg == "--rsp-listen" ? o.rsp : o.rpc) = *addr;
            } else if (arg == "--spawn") {
                o.spawn = split_command(value);
                if (o.spawn.empty()) {
                    error = "--spawn: empty command";
                    return std::nullopt;
                }
            } else if (arg == "--ready-timeout") {
                char* end = nullptr;
                unsigned long seconds = std::strtoul(value.c_str(), &end, 10);
                if (value.empty() || *end != 0 || seconds == 0 || seconds > 3600) {
                    error = "--ready-timeout: expected 1..3600 seconds, got '" + value + "'";
                    return std::nullopt;
                }
                o.ready_timeout_s = static_cast<unsigned>(seconds);
            } else if (arg == "--symbols") {
                o.symbols_dir = value;
            } else if (arg == "--max-connections") {
                if (value.empty() || value.size() > 6 ||
                    value.find_first_not_of("0123456789") != std::string::npos ||
                    std::stoul(value) == 0) {
                    error = "--max-connections: expected a count of 1 or more, got '" + value + "'";
                    return std::nullopt;
                }
                o.limits.max_connections = std::stoul(value);
            } else if (arg == "--write-timeout" || arg == "--idle-timeout" ||
                       arg == "--message-timeout") {
                auto ms = parse_seconds(value);
                if (!ms) {
                    error = arg + ": expected seconds (e.g. 30 or 0.5), got '" + value + "'";
                    return std::nullopt;
                }
                (arg == "--write-timeout"  ? o.limits.write_timeout
                 : arg == "--idle-timeout" ? o.limits.idle_timeout
                                           : o.limits.message_timeout) = *ms;
            } else {
                static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
                bool known = false;
                for (const char* l : levels)
                    known = known || value == l;
                if (!known) {
                    error = "--log-level: unknown level '" + value + "'";
                    return std::nullopt;
                }
                o.log_level = value;
            }
        } else {
            error = "unknown option '" + std::string(argv[i]) + "'";
            return std::nullopt;
        }
    }
    if (o.help || o.version)
        return o;
    int targets = !o.qemu_socket.empty() + !o.launch_kernel.empty() + o.fake_target;
    if (targets > 1 && !(targets == 2 && !o.qemu_socket.empty() && !o.launch_kernel.empty())) {
        error = "choose one target: --qemu-socket, --launch or --fake-target";
        return std::nullopt;
    }
    if (targets == 0) {
        error = "no target: give --qemu-socket PATH, --launch KERNEL or --fake-target";
        return std::nullopt;
    }
    if (!o.qemu_args.empty() && o.launch_kernel.empty()) {
        error = "--qemu-arg only applies to --launch";
        return std::nullopt;
    }
    for (const auto* addr : {&o.rsp, &o.rpc}) {
        if (!o.allow_remote && !is_loopback(addr->host)) {
            error = "refusing to listen on " + addr->host +
                    " (not loopback): add --allow-remote if you mean it";
            return std::nullopt;
        }
    }
    return o;
}

} // namespace ruprobes::daemon
