// ruprobesd's flags, declared once for CLI11: the parser and the generated --help both come from
// these declarations. Values are checked as they are parsed; a bad one is reported as
// "FLAG: what was expected, got 'VALUE'".
#include "daemon/options.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>

namespace ruprobes::daemon {
namespace {

constexpr const char* target_group = "Target (one of)";
constexpr const char* front_end_group = "Front ends";
constexpr const char* limits_group = "Client limits (each port; see stub/daemon/README.md)";
constexpr const char* general_group = "General";

// The most harts --launch gives the kernel: the agent keeps one hit ring per hart for at most 8.
constexpr unsigned max_harts = 8;

[[noreturn]] void bad_value(const std::string& flag, const std::string& what) {
    throw CLI::ValidationError(flag, what);
}

std::string listen_text(const listen_address& a) {
    bool v6 = a.host.find(':') != std::string::npos;
    return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

// 30000 ms -> "30", 500 ms -> "0.5".
std::string seconds_text(std::chrono::milliseconds ms) {
    auto count = ms.count();
    if (count % 1000 == 0)
        return std::to_string(count / 1000);
    std::string text = std::to_string(static_cast<double>(count) / 1000.0);
    text.erase(text.find_last_not_of('0') + 1);
    return text;
}

void add_target_flags(CLI::App& app, daemon_options& o) {
    app.add_option("--qemu-socket,--kernel-socket", o.qemu_socket,
                   "connect to a running QEMU's agent virtio-console, exposed\n"
                   "as a unix socket (-chardev socket,path=PATH,server=on),\n"
                   "or to any kernel that serves the agent channel on a unix\n"
                   "socket (e.g. ruprobes-simkernel --agent-socket PATH);\n"
                   "reconnects with backoff when the kernel restarts")
        ->type_name("PATH")
        ->group(target_group);
    app.add_option("--launch", o.launch_kernel,
                   "start QEMU with KERNEL (e.g. build/guest/kernel.elf) and\n"
                   "the agent channel; QEMU is stopped when the daemon exits")
        ->type_name("KERNEL")
        ->group(target_group);
    app.add_option("--qemu-arg", o.qemu_args, "extra QEMU argument for --launch (repeatable)")
        ->type_name("ARG")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(target_group);
    app.add_option_function<std::string>(
           "--harts",
           [&o](const std::string& value) {
               if (value.size() != 1 || value[0] < '1' ||
                   static_cast<unsigned>(value[0] - '0') > max_harts)
                   bad_value("--harts",
                             "expected 1.." + std::to_string(max_harts) + ", got '" + value + "'");
               o.harts = static_cast<unsigned>(value[0] - '0');
           },
           "harts (CPUs) QEMU gives the kernel for --launch (-smp);\n"
           "the reference kernel runs processes on all of them")
        ->type_name("N")
        ->default_str(std::to_string(o.harts))
        ->group(target_group);
    app.add_option("--append", o.append,
                   "kernel command line for --launch (the default keeps the\n"
                   "kernel running for the daemon)")
        ->type_name("CMDLINE")
        ->capture_default_str()
        ->group(target_group);
    app.add_option("--qemu-log", o.qemu_log,
                   "where --launch writes QEMU's console (the kernel log);\n"
                   "default: ruprobesd-qemu-PID.log in the temp directory")
        ->type_name("FILE")
        ->group(target_group);
}

void add_listen_flag(CLI::App& app, const std::string& flag, listen_address& to,
                     const std::string& description) {
    app.add_option_function<std::string>(
           flag,
           [flag, &to](const std::string& value) {
               auto address = parse_listen(value);
               if (!address)
                   bad_value(flag, "expected HOST:PORT, got '" + value + "'");
               to = *address;
           },
           description)
        ->type_name("HOST:PORT")
        ->default_str(listen_text(to))
        ->group(front_end_group);
}

void add_front_end_flags(CLI::App& app, daemon_options& o, daemon_kind kind) {
    add_listen_flag(app, "--rsp-listen", o.rsp,
                    "GDB remote protocol server;\n"
                    "gdb: target remote / target extended-remote HOST:PORT");
    add_listen_flag(app, "--rpc-listen", o.rpc, "JSON-RPC 2.0 server");
    app.add_flag_callback(
           "--no-rpc", [&o] { o.rpc_enabled = false; }, "do not start the JSON-RPC server")
        ->group(front_end_group);
    app.add_flag("--allow-remote", o.allow_remote,
                 "allow listening on addresses other than loopback\n"
                 "(anyone who can connect can read and write the memory\n"
                 "of the guest's user processes)")
        ->group(front_end_group);
    app.add_option_function<std::string>(
           "--spawn",
           [&o](const std::string& value) {
               o.spawn = split_command(value);
               if (o.spawn.empty())
                   bad_value("--spawn", "empty command");
           },
           "start this guest program (e.g. \"/bin/fib 20\") stopped\n"
           "at its entry as soon as the kernel is up; the first gdb\n"
           "client that asks for a process ('?') gets it")
        ->type_name("\"CMD ARGS\"")
        ->group(front_end_group);
    app.add_option_function<std::string>(
           "--ready-timeout",
           [&o](const std::string& value) {
               char* end = nullptr;
               unsigned long seconds = std::strtoul(value.c_str(), &end, 10);
               if (value.empty() || *end != 0 || seconds == 0 || seconds > 3600)
                   bad_value("--ready-timeout", "expected 1..3600 seconds, got '" + value + "'");
               o.ready_timeout_s = static_cast<unsigned>(seconds);
           },
           "how long a gdb client that needs the kernel waits for it\n"
           "to come up before it gets an error")
        ->type_name("SECONDS")
        ->default_str(std::to_string(o.ready_timeout_s))
        ->group(front_end_group);
    app.add_flag_callback(
           "--no-host-step", [&o] { o.host_step = false; },
           "step every instruction in the kernel (default: a gdb\n"
           "single step over a register-only instruction - integer\n"
           "arithmetic, lui, auipc, branches, jal - is computed in the\n"
           "daemon with the engine's simulator, and the registers go\n"
           "to the kernel with the next resume: one kernel round trip\n"
           "per gdb breakpoint stop instead of two)")
        ->group(front_end_group);
    // The fake kernel's programs have no host copies: gdb reads their text from the fake.
    app.add_option("--symbols", o.symbols_dir,
                   kind == daemon_kind::kernel
                       ? "host copies of the guest's programs (ELF with debug info,\n"
                         "byte-identical to the guest's): symbol lookups, and gdb's\n"
                         "reads of program text (default: guest/user next to the\n"
                         "daemon's bin/ folder, i.e. build/guest/user)"
                       : "host copies of the guest's programs (ELF with debug info)\n"
                         "for symbol lookups (default: guest/user next to the\n"
                         "daemon's bin/ folder, i.e. build/guest/user)")
        ->type_name("DIR")
        ->group(front_end_group);
}

void add_timeout_flag(CLI::App& app, const std::string& flag, std::chrono::milliseconds& to,
                      const std::string& description) {
    app.add_option_function<std::string>(
           flag,
           [flag, &to](const std::string& value) {
               auto ms = parse_seconds(value);
               if (!ms)
                   bad_value(flag, "expected seconds (e.g. 30 or 0.5), got '" + value + "'");
               to = *ms;
           },
           description)
        ->type_name("SEC")
        ->default_str(seconds_text(to))
        ->group(limits_group);
}

void add_limit_flags(CLI::App& app, daemon_options& o) {
    app.add_option_function<std::string>(
           "--max-connections",
           [&o](const std::string& value) {
               if (value.empty() || value.size() > 6 ||
                   value.find_first_not_of("0123456789") != std::string::npos ||
                   std::stoul(value) == 0)
                   bad_value("--max-connections",
                             "expected a count of 1 or more, got '" + value + "'");
               o.limits.max_connections = std::stoul(value);
           },
           "connections per port; past it a new connection replaces\n"
           "the longest-idle one that holds nothing, or is refused\n"
           "when all hold something")
        ->type_name("N")
        ->default_str(std::to_string(o.limits.max_connections))
        ->group(limits_group);
    add_timeout_flag(app, "--write-timeout", o.limits.write_timeout,
                     "drop a client that takes no byte of a write this long");
    add_timeout_flag(app, "--idle-timeout", o.limits.idle_timeout,
                     "drop a client that holds nothing (no process, no\n"
                     "subscription, no call) and sends nothing this long");
    add_timeout_flag(app, "--message-timeout", o.limits.message_timeout,
                     "drop a client that begins a message (packet, JSON-RPC\n"
                     "message) and does not finish it this long");
}

void add_general_flags(CLI::App& app, daemon_options& o) {
    app.add_option_function<std::string>(
           "--log-level",
           [&o](const std::string& value) {
               static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
               bool known = false;
               for (const char* l : levels)
                   known = known || value == l;
               if (!known)
                   bad_value("--log-level", "unknown level '" + value + "'");
               o.log_level = value;
           },
           "trace, debug, info, warn, error, off; logs go to stderr")
        ->type_name("LEVEL")
        ->default_str(o.log_level)
        ->group(general_group);
    app.set_help_flag(); // replaced by a plain flag: the caller prints the help
    app.add_flag("-h,--help", o.help, "show this help and exit")->group(general_group);
    app.add_flag("--version", o.version, "print the version and exit")->group(general_group);
}

// Declares every flag of `kind` on `app`, each bound to its field of `o` (whose values at this
// point are the defaults --help shows).
void declare_flags(CLI::App& app, daemon_options& o, daemon_kind kind) {
    app.name(program_name(kind));
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (kind == daemon_kind::kernel) {
        app.description(
            "Host daemon of ruprobes: debug (GDB Remote Serial Protocol) and trace (JSON-RPC 2.0)\n"
            "user programs of a RISC-V kernel running under QEMU.");
        add_target_flags(app, o);
    } else {
        app.description(
            "ruprobesd serving an in-memory fake kernel instead of a real one (programs\n"
            "/bin/loop and /bin/count), for development and tests. Same front ends as\n"
            "ruprobesd; no target flags.");
    }
    add_front_end_flags(app, o, kind);
    add_limit_flags(app, o);
    add_general_flags(app, o);
    app.get_formatter()->column_width(31);
}

// The checks across flags, done once all are parsed.
bool check_choices(const daemon_options& o, daemon_kind kind, std::string& error) {
    if (kind == daemon_kind::kernel) {
        if (o.qemu_socket.empty() && o.launch_kernel.empty()) {
            error = "no target: give --qemu-socket PATH or --launch KERNEL";
            return false;
        }
        if (!o.qemu_args.empty() && o.launch_kernel.empty()) {
            error = "--qemu-arg only applies to --launch";
            return false;
        }
        if (o.harts != 1 && o.launch_kernel.empty()) {
            error = "--harts only applies to --launch";
            return false;
        }
    }
    for (const auto* addr : {&o.rsp, &o.rpc}) {
        if (!o.allow_remote && !is_loopback(addr->host)) {
            error = "refusing to listen on " + addr->host +
                    " (not loopback): add --allow-remote if you mean it";
            return false;
        }
    }
    return true;
}

} // namespace

const char* program_name(daemon_kind kind) {
    return kind == daemon_kind::kernel ? "ruprobesd" : "ruprobesd-fake";
}

std::optional<daemon_options> parse_options(int argc, const char* const* argv, std::string& error,
                                            daemon_kind kind) {
    daemon_options o;
    CLI::App app;
    declare_flags(app, o, kind);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ExtrasError&) {
        error = "unknown option '" + app.remaining().front() + "'";
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        error = e.what();
        return std::nullopt;
    }
    if (o.help || o.version)
        return o;
    if (!check_choices(o, kind, error))
        return std::nullopt;
    return o;
}

void print_help(FILE* out, daemon_kind kind) {
    daemon_options defaults;
    CLI::App app;
    declare_flags(app, defaults, kind);
    std::fputs(app.help().c_str(), out);
}

} // namespace ruprobes::daemon
