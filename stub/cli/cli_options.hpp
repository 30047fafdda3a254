// The `ruprobes` command line: what the user asked for, parsed without side effects (no sockets,
// no output), so that every rule is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace ruprobes::cli {

// Exit codes of `ruprobes` (also listed by `ruprobes --help`).
enum exit_code : int {
    exit_ok = 0,          // the command did what was asked
    exit_failed = 1,      // the daemon answered with an error, or the command's work failed
    exit_usage = 2,       // bad command line
    exit_unreachable = 3, // the daemon is not reachable, closed the connection or did not answer
};

enum class command_kind {
    help, // print help_topic's help (or the general one) and exit 0
    version,
    status,
    ps,
    spawn,
    kill,
    probes_add,
    probes_list,
    probes_remove,
    watch,
    hist,      // call-duration histogram (no --of)
    aggregate, // count TARGET, or hist TARGET --of FIELD: an aggregation in the kernel
};

// Where a probe goes: PROGRAM:SYMBOL, PROGRAM:0xADDR (or decimal) or PROGRAM:FILE:LINE. Exactly
// one of symbol / address / line is set.
struct probe_target {
    std::string program; // guest path, always absolute: "/bin/fib"
    std::string symbol;
    std::string address; // as written: "0x10078" or "65656"
    std::string line;    // "fib.c:9"
};

struct cli_options {
    command_kind command = command_kind::help;
    std::string help_topic; // with command help: "" (general), "probes add", "watch", ...

    std::string host = "127.0.0.1";
    uint16_t port = 4242;
    bool json = false;
    double timeout_s = 30; // per JSON-RPC call

    // probes add
    probe_target target;
    std::string kind; // "entry", "return", "insn" or "" (the daemon's default)
    std::optional<int64_t> pid;
    std::optional<std::string> condition; // --if EXPR, compiled by the daemon
    std::vector<std::string> fetch;       // --fetch ITEM[,ITEM...]: probe.add's fetch elements
    // probes remove, kill
    int64_t id = 0;
    // spawn
    std::vector<std::string> argv;
    bool stopped = false;
    // watch, hist
    std::optional<double> duration; // seconds; none: until Ctrl-C
    std::optional<double> interval; // seconds between redraws / snapshots
    std::vector<int64_t> probes;    // watch --probe ID (repeatable)
    std::string hist_probe;         // hist PROBE: an id or PROGRAM:SYMBOL
    // count / hist --of: the aggregation (probe.add's `aggregate`); `target`, `kind` and
    // `condition` say where and when.
    std::string by;                    // --by FIELD: pid, tid, a0..a7, ret; "": no key
    std::string of;                    // --of FIELD: a0..a7, ret (hist); "": count only
    std::optional<std::string> linear; // --linear MIN:MAX:STEP
    std::vector<std::string> run;      // --run "CMD": spawn it, stop when it exits
};

// The options, or what was wrong with the command line (for "ruprobes: <error>").
using parse_result = tl::expected<cli_options, std::string>;

// --linear MIN:MAX:STEP (MAX > MIN, STEP > 0); nothing when it is not that.
struct linear_buckets {
    int64_t min = 0;
    int64_t max = 0;
    int64_t step = 0;
};
std::optional<linear_buckets> parse_linear(const std::string& text);

// A whole decimal integer (no sign other than '-', no spaces); false otherwise.
bool parse_int(std::string_view text, int64_t& out);

// A positive, finite number of seconds ("2", "0.5"); false otherwise.
bool parse_seconds(std::string_view text, double& out);

// Parses the arguments after the program name. Global options (--connect, --json, --timeout)
// are accepted before and after the command (not after spawn's PROGRAM: those words are the
// program's); `--help` after a command selects that command's help. Never exits.
parse_result parse_command_line(const std::vector<std::string>& args);

// Parses PROGRAM:SYMBOL | PROGRAM:0xADDR | PROGRAM:FILE:LINE. A PROGRAM without '/' is taken
// as /bin/PROGRAM. Returns nothing (and sets `error`) when a part is missing.
std::optional<probe_target> parse_probe_target(std::string_view text, std::string& error);

// "fib" -> "/bin/fib"; a path with a '/' is kept as it is.
std::string guest_program_path(std::string_view name);

// Parses HOST:PORT ("[::1]:4242", ":4242" = 127.0.0.1). False on a malformed value.
bool parse_host_port(std::string_view text, std::string& host, uint16_t& port);

// The help text of `topic` ("" for the general help, or a command such as "probes add"),
// generated from the declarations of cli_flags.cpp; empty when there is no such topic.
std::string help_text(std::string_view topic);

} // namespace ruprobes::cli
