// ruprobes: the human command line of ruprobesd's JSON-RPC API (probes, processes, the live
// view of probe hits, call-duration histograms). See `ruprobes --help`.
#include "cli/cli_options.hpp"
#include "cli/commands.hpp"
#include "cli/rpc_client.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#ifndef RUPROBES_VERSION
#define RUPROBES_VERSION "unknown"
#endif

using namespace ruprobes::cli;

namespace {

// Connects and runs the command. An answer of an unexpected shape makes nlohmann::json throw
// (type_error, out_of_range): that library's exceptions end here, as a failed command.
call_result<int> run_command(const cli_options& o) {
    auto client = rpc_client::connect(
        o.host, o.port, std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000)));
    if (!client)
        return tl::unexpected(client.error());
    rpc_client& c = *client;
    try {
        return o.command == command_kind::watch       ? run_watch(c, o)
               : o.command == command_kind::hist      ? run_hist(c, o)
               : o.command == command_kind::aggregate ? run_aggregate(c, o)
                                                      : run_simple_command(c, o);
    } catch (const nlohmann::json::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "ruprobes: %s\n", e.what());
        return exit_failed;
    }
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args;
    if (const char* env = std::getenv("RUPROBES_CONNECT"); env && *env) {
        args.push_back("--connect");
        args.push_back(env);
    }
    for (int i = 1; i < argc; i++)
        args.push_back(argv[i]);
    if (argc < 2) {
        std::fputs(help_text("").c_str(), stderr);
        return exit_usage;
    }
    parse_result parsed = parse_command_line(args);
    if (!parsed) {
        std::fprintf(stderr, "ruprobes: %s\n", parsed.error().c_str());
        return exit_usage;
    }
    const cli_options& o = *parsed;
    if (o.command == command_kind::help) {
        std::fputs(help_text(o.help_topic).c_str(), stdout);
        return exit_ok;
    }
    if (o.command == command_kind::version) {
        std::printf("ruprobes %s\n", RUPROBES_VERSION);
        return exit_ok;
    }
    call_result<int> rc = run_command(o);
    std::fflush(stdout);
    if (!rc) {
        std::fprintf(stderr, "ruprobes: %s\n", describe(rc.error()).c_str());
        return exit_code_of(rc.error());
    }
    if (int sig = stop_signal()) {
        // Ctrl-C: the final view is out; end the way a shell expects (WIFSIGNALED).
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
    return *rc;
}
