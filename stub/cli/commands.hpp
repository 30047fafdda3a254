// The commands of `ruprobes`: each talks to the daemon through an rpc_client, prints its result
// (text or, with --json, JSON) on stdout and returns an exit code, or the call_error of a call
// that failed, which main prints and maps to an exit code (exit_code_of).
#pragma once

#include "cli/cli_options.hpp"
#include "cli/rpc_client.hpp"

namespace ruprobes::cli {

// probe.add's params for the options' TARGET, kind and condition (probes add, count, hist --of).
json probe_add_params(const cli_options& options);

// status, ps, spawn, kill, probes add/list/remove. Returns exit_ok or exit_failed.
call_result<int> run_simple_command(rpc_client& client, const cli_options& options);

// watch: subscribes, shows the live view until --duration passes or SIGINT/SIGTERM arrives,
// then prints the final view. Returns exit_ok.
call_result<int> run_watch(rpc_client& client, const cli_options& options);

// hist PROBE: call-duration histogram of one function; adds the missing entry/return probe for
// the run and removes it afterwards. Returns exit_ok, or exit_failed when the probe cannot be
// resolved to a function.
call_result<int> run_hist(rpc_client& client, const cli_options& options);

// count, hist --of: an aggregation probe in the kernel for the run (--run CMD, --duration or
// until Ctrl-C), then its table; the probe is removed at the end. Returns exit_ok, or
// exit_failed when the program run with --run could not start.
call_result<int> run_aggregate(rpc_client& client, const cli_options& options);

// Probes a command adds for its run and removes at its end: by remove_all() when the run went
// well (a failure to remove is then the command's), else by the destructor, which ignores
// failures (the run's own error is the one reported).
class probes_for_the_run {
public:
    explicit probes_for_the_run(rpc_client& client) : client_(client) {}
    ~probes_for_the_run();
    probes_for_the_run(const probes_for_the_run&) = delete;
    probes_for_the_run& operator=(const probes_for_the_run&) = delete;

    // probe.add with `params`; the new probe's id.
    call_result<int64_t> add(const json& params);
    // probe.remove of every probe added, in order; stops at the first failure.
    call_result<void> remove_all();
    size_t size() const { return ids_.size(); }

private:
    rpc_client& client_;
    std::vector<int64_t> ids_;
};

// SIGINT/SIGTERM end watch, hist and count early (stop_signal() then says which).
void install_stop_handlers();

// The signal (SIGINT, SIGTERM) that ended watch or hist early, 0 if none. main re-raises it after
// the final view so that a calling shell sees the command ended by that signal (and stops too).
int stop_signal();

} // namespace ruprobes::cli
