// ruprobesd's command line (and ruprobesd-fake's): every flag, its default, and the checks done
// before anything starts.
#pragma once

#include "session/session_limits.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::daemon {

struct listen_address {
    std::string host;
    uint16_t port = 0;
};

struct daemon_options {
    std::string qemu_socket;               // --qemu-socket PATH
    std::string launch_kernel;             // --launch KERNEL
    std::vector<std::string> qemu_args;    // --qemu-arg ARG (repeatable)
    unsigned harts = 1;                    // --harts N (QEMU -smp of --launch)
    std::string qemu_log;                  // --qemu-log FILE (launched QEMU's console)
    std::string append = "ruprobes.stay";  // --append CMDLINE (kernel command line of --launch)
    listen_address rsp{"127.0.0.1", 1234}; // --rsp-listen HOST:PORT
    listen_address rpc{"127.0.0.1", 4242}; // --rpc-listen HOST:PORT
    bool rpc_enabled = true;               // --no-rpc
    bool allow_remote = false;             // --allow-remote
    std::vector<std::string> spawn;        // --spawn "/bin/fib 20"
    unsigned ready_timeout_s = 30;         // --ready-timeout SECONDS
    std::string symbols_dir;               // --symbols DIR
    std::string log_level = "info";        // --log-level
    bool host_step = true;                 // --no-host-step turns it off
    // --max-connections, --write-timeout, --idle-timeout, --message-timeout (both ports)
    session::session_limits limits;
    bool help = false;
    bool version = false;
};

// Which daemon a command line belongs to. `kernel` is ruprobesd, which serves a real kernel
// (--qemu-socket, --kernel-socket or --launch). `fake_kernel` is ruprobesd-fake, the development
// and test build that serves an in-memory fake kernel and has no target flags.
enum class daemon_kind { kernel, fake_kernel };

// "ruprobesd" or "ruprobesd-fake".
const char* program_name(daemon_kind kind);

// Parses argv. Nothing (and `error` set) when an option is unknown, lacks its value or has a
// bad one, when ruprobesd is given no target, or when a listen address is not loopback without
// --allow-remote.
std::optional<daemon_options> parse_options(int argc, const char* const* argv, std::string& error,
                                            daemon_kind kind = daemon_kind::kernel);

// "HOST:PORT", "[v6]:PORT" or ":PORT" (= 127.0.0.1). Nothing when malformed.
std::optional<listen_address> parse_listen(const std::string& text);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

// Seconds ("30", "0.5"; 0.01 .. 1e6) as milliseconds. Nothing when malformed or out of range.
std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text);

// Splits a command line on spaces ("/bin/fib 20" -> {"/bin/fib", "20"}).
std::vector<std::string> split_command(const std::string& text);

// The --help text (generated from the same flag definitions parse_options uses).
void print_help(FILE* out, daemon_kind kind = daemon_kind::kernel);

} // namespace ruprobes::daemon
