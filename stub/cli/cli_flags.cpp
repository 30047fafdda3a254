// The `ruprobes` commands and flags, declared once for CLI11, and the help generated from them.
#include "cli/cli_flags.hpp"

#include <sstream>

namespace ruprobes::cli {
namespace {

constexpr const char* global_group = "Global options (before or after the command)";

[[noreturn]] void bad_value(const std::string& flag, const std::string& what) {
    throw CLI::ValidationError(flag, what);
}

// A positive, finite number of seconds.
double seconds_value(const std::string& flag, const std::string& text) {
    double s = 0;
    if (!parse_seconds(text, s))
        bad_value(flag, "expected a number of seconds, got '" + text + "'");
    return s;
}

void add_seconds_flag(CLI::App& command, const std::string& flag, std::optional<double>& to,
                      const std::string& description) {
    command
        .add_option_function<std::string>(
            flag, [flag, &to](const std::string& v) { to = seconds_value(flag, v); }, description)
        ->type_name("S");
}

void add_global_flags(CLI::App& app, cli_options& o) {
    app.set_help_flag("-h,--help", "show help and exit (also after a command: its help)")
        ->group(global_group);
    app.add_option_function<std::string>(
           "--connect",
           [&o](const std::string& v) {
               if (!parse_host_port(v, o.host, o.port))
                   bad_value("--connect", "expected HOST:PORT, got '" + v + "'");
           },
           "the daemon's JSON-RPC address; the environment\n"
           "variable RUPROBES_CONNECT sets the default")
        ->type_name("HOST:PORT")
        ->default_str("127.0.0.1:4242")
        ->group(global_group);
    app.add_flag("--json", o.json, "print the daemon's results as JSON instead of text")
        ->group(global_group);
    app.add_option_function<std::string>(
           "--timeout", [&o](const std::string& v) { o.timeout_s = seconds_value("--timeout", v); },
           "seconds to wait for each answer of the daemon")
        ->type_name("S")
        ->default_str("30")
        ->group(global_group);
    app.add_flag_callback(
           "--version", [&o] { o.command = command_kind::version; }, "print the version and exit")
        ->group(global_group);
}

// --entry, --return, --insn: one of them (or --kind KIND, the same).
void add_kind_flags(CLI::App& command, cli_options& o, bool with_kind_option) {
    for (const char* kind : {"entry", "return", "insn"}) {
        std::string flag = std::string("--") + kind;
        std::string name = command_path(command);
        command.add_flag_callback(
            flag,
            [&o, kind, name] {
                if (!o.kind.empty() && o.kind != kind)
                    throw CLI::ValidationError(name + ": choose one of --entry, --return, --insn");
                o.kind = kind;
            },
            std::string(kind) == "entry"    ? "at the function's first instruction"
            : std::string(kind) == "return" ? "when the function returns (hits carry the return\n"
                                              "value)"
                                            : "at that instruction");
    }
    if (!with_kind_option)
        return;
    command
        .add_option_function<std::string>(
            "--kind",
            [&o](const std::string& v) {
                if (v != "entry" && v != "return" && v != "insn")
                    bad_value("--kind", "expected entry, return or insn, got '" + v + "'");
                o.kind = v;
            },
            "the same as --entry, --return or --insn")
        ->type_name("KIND");
}

void add_condition_flag(CLI::App& command, cli_options& o, const char* description) {
    command.add_option("--if", o.condition, description)->type_name("EXPR");
}

void add_run_flag(CLI::App& command, parsed_words& w) {
    command.add_option("--run", w.run, "start this guest program and stop when it exits")
        ->type_name("\"CMD\"")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

constexpr const char* target_help = "PROGRAM:SYMBOL, PROGRAM:0xADDR or PROGRAM:FILE:LINE";
constexpr const char* see_probes_add = "only the hits where EXPR holds (see probes add --help)";

void add_probes_commands(CLI::App& app, cli_options& o, parsed_words& w) {
    auto* probes = app.add_subcommand("probes", "add, list or remove probes")->alias("probe");
    probes->require_subcommand(1);
    auto* add = probes->add_subcommand("add", "add a trace probe and print its id");
    add->add_option("TARGET", w.operand, target_help)->required();
    add->footer("TARGET:\n"
                "  PROGRAM:SYMBOL     a function, e.g. fib:fib or /bin/ticker:tick\n"
                "  PROGRAM:0xADDR     an instruction address in the program's ELF (hex or\n"
                "                     decimal)\n"
                "  PROGRAM:FILE:LINE  the first instruction of a source line, e.g. fib:fib.c:9\n"
                "Hits are recorded, nothing stops. The kind defaults to --entry for a symbol,\n"
                "--insn otherwise. With --json: the result of probe.add.");
    add_kind_flags(*add, o, true);
    add->add_option_function<std::string>(
           "--pid",
           [&o](const std::string& v) {
               int64_t pid = 0;
               if (!parse_int(v, pid) || pid <= 0)
                   bad_value("--pid", "expected a process id, got '" + v + "'");
               o.pid = pid;
           },
           "only in process N (default: every current and future\n"
           "process)")
        ->type_name("N");
    add_condition_flag(*add, o,
                       "only the hits where EXPR holds, evaluated in the kernel:\n"
                       "a C-like expression over a0-a7 (arg0-arg7), x0-x31, sp,\n"
                       "ra, pc, pid, tid, ret (--return), casts and loads, e.g.\n"
                       "'a0 == 3' or '*(u32 *)(a1 + 8) > 100' (docs/jsonrpc.md,\n"
                       "Conditions)");
    add->add_option("--fetch", o.fetch,
                    "what each hit carries besides its registers, read in the\n"
                    "kernel at the hit (repeatable, or comma-separated): a\n"
                    "register (a0, x10, sp, pc, ret with --return),\n"
                    "mem:ADDR:LEN (LEN bytes at ADDR) or str:ADDR[:MAX] (the\n"
                    "string at ADDR, at most MAX bytes, default 64); ADDR is\n"
                    "a register with an optional +N/-N, e.g. str:a1 or\n"
                    "mem:sp+16:8 (docs/jsonrpc.md, Fetch; probe.hit shows them)")
        ->type_name("ITEM")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    probes->add_subcommand("list", "the probes with their hit counts")
        ->footer("Lists the probes: id, kind, program:symbol+offset, address, how the engine\n"
                 "executes the displaced instruction (simulate or out_of_line), hits.\n"
                 "With --json: the result of probe.list.");
    probes->add_subcommand("remove", "remove a probe (the original instruction is restored)")
        ->footer("The original instruction is back in every process. Prints the probe's final\n"
                 "hit count.")
        ->add_option("ID", w.operand, "the probe's id")
        ->required();
}

void add_watch_command(CLI::App& app, cli_options& o, parsed_words& w) {
    auto* watch =
        app.add_subcommand("watch", "live view of probe hits: count, rate, last arguments or\n"
                                    "return value, and call-duration histograms");
    add_seconds_flag(*watch, "--duration", o.duration,
                     "stop after S seconds (default: until Ctrl-C; Ctrl-C\n"
                     "prints the final view, then ends the command as\n"
                     "interrupted)");
    add_seconds_flag(*watch, "--interval", o.interval,
                     "seconds between redraws or tables (default: 1 on a\n"
                     "terminal, 2 otherwise)");
    watch
        ->add_option("--probe", w.probe_words, "only this probe (repeatable; default: every probe)")
        ->type_name("ID")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    watch->footer(
        "Subscribes to probe hits and shows, per probe: hits (the daemon's total), the rate seen\n"
        "during the last interval, and the last hit (pid, arguments a0-a2 for entry and insn\n"
        "probes, the return value for return probes, what the probe fetched for a probe added\n"
        "with --fetch); the number of events the daemon reported\n"
        "lost (events.lost); and for every function with an entry and a return probe a\n"
        "histogram of call durations (guest clock), from entry/return pairs matched per thread\n"
        "by stack pointer.\n"
        "On a terminal the view is redrawn in place every interval; otherwise a plain table is\n"
        "printed every interval. The last table, printed at the end, adds the histograms; its\n"
        "rates are averages over the whole watch.\n"
        "With --json: nothing while running, then one JSON object with the probes, the\n"
        "histograms and the lost count.");
}

// The flags count and hist --of share: the kind, --by, --if, --run, --duration.
void add_aggregation_flags(CLI::App& command, cli_options& o, parsed_words& w, const char* by_help,
                           const char* duration_help) {
    add_kind_flags(command, o, false);
    command.add_option("--by", o.by, by_help)->type_name("FIELD");
    add_condition_flag(command, o, see_probes_add);
    add_run_flag(command, w);
    add_seconds_flag(command, "--duration", o.duration, duration_help);
}

void add_hist_command(CLI::App& app, cli_options& o, parsed_words& w) {
    auto* hist =
        app.add_subcommand("hist", "without --of: call-duration histogram of one function;\n"
                                   "with --of: histogram of an argument or the return\n"
                                   "value, computed in the kernel (e.g. hist fib:fib --of ret)");
    hist->add_option("PROBE|TARGET", w.operand,
                     "without --of: a probe id (of an entry or a return\n"
                     "probe) or PROGRAM:SYMBOL; with --of: TARGET as for\n"
                     "probes add")
        ->required();
    hist->add_option("--of", o.of,
                     "a0-a7 (arg0-arg7), or ret (the return value: implies\n"
                     "--return)")
        ->type_name("FIELD");
    add_aggregation_flags(*hist, o, w, "with --of: one histogram per pid, tid, a0-a7 or ret",
                          "collect for S seconds (default: until Ctrl-C)");
    hist->add_option("--linear", o.linear,
                     "with --of: buckets of STEP from MIN to MAX (default:\n"
                     "powers of 2)")
        ->type_name("MIN:MAX:STEP");
    add_seconds_flag(*hist, "--interval", o.interval,
                     "without --of, on a terminal: seconds between redraws\n"
                     "(default 1); with --of: also print the table every S\n"
                     "seconds while it runs (at least 0.1)");
    hist->footer("Without --of, the function needs an entry and a return probe: those missing\n"
                 "are added for this run and removed at the end. With --of, no event per hit\n"
                 "reaches the host; a probe is added for the run and removed at the end; --by,\n"
                 "--linear, --run, --if and the kind need --of.\n"
                 "With --json: the result of probe.aggregate (with --of).");
}

void add_count_command(CLI::App& app, cli_options& o, parsed_words& w) {
    auto* count =
        app.add_subcommand("count", "count calls in the kernel, per pid, tid, argument or\n"
                                    "return value (e.g. count fib:fib --by a0)");
    count->add_option("TARGET", w.operand, target_help)->required();
    add_aggregation_flags(*count, o, w,
                          "one count per pid, tid, a0-a7 (arg0-arg7) or ret (the\n"
                          "return value: implies --return)",
                          "without --run: count for S seconds (default: until\n"
                          "Ctrl-C)");
    add_seconds_flag(*count, "--interval", o.interval,
                     "also print the table every S seconds while it runs\n"
                     "(at least 0.1; the daemon reads it from the kernel)");
    count->footer("No event per hit reaches the host. A probe is added for the run and removed\n"
                  "at the end. With --json: the result of probe.aggregate (with --interval, one\n"
                  "line per table on the way, then the last one).");
}

void add_process_commands(CLI::App& app, cli_options& o, parsed_words& w) {
    app.add_subcommand("ps", "processes of the guest")
        ->footer("Lists the guest's processes: pid, state (running, stopped, exited), program.\n"
                 "With --json: the result of process.list.");
    auto* spawn = app.add_subcommand("spawn", "start a guest program, e.g. spawn \"/bin/fib 20\"");
    spawn->add_flag("--stopped", o.stopped, "create it stopped at its entry, for gdb to attach");
    // Everything from PROGRAM on is the program's: its arguments may start with '-'.
    spawn->positionals_at_end();
    spawn
        ->add_option("PROGRAM ARGS", w.program,
                     "\"PROGRAM ARGS\" as one word or as separate words;\n"
                     "PROGRAM is a guest path (/bin/fib) or a name (fib)")
        ->required();
    spawn->footer("Words after PROGRAM are its arguments, even if they start with '-'. Prints the\n"
                  "new process's pid. With --json: the result of process.spawn.");
    app.add_subcommand("kill", "kill a guest process")
        ->add_option("PID", w.operand, "the process id")
        ->required();
}

} // namespace

void declare_command_line(CLI::App& app, cli_options& o, parsed_words& w) {
    app.name("ruprobes");
    app.description("Trace user programs of the RISC-V guest through ruprobesd's JSON-RPC 2.0 "
                    "server.");
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.fallthrough(); // the global flags are accepted after the command too
    app.require_subcommand(0, 1);
    add_global_flags(app, o);
    app.add_subcommand("status", "the daemon and whether the guest kernel is connected")
        ->footer("Shows whether the guest kernel is connected to the daemon (its version and boot\n"
                 "id) and the daemon's counters (sessions, subscribers, events published).\n"
                 "With --json: the result of target.status.");
    add_process_commands(app, o, w);
    add_probes_commands(app, o, w);
    add_watch_command(app, o, w);
    add_hist_command(app, o, w);
    add_count_command(app, o, w);
    app.add_subcommand("help", "this text, or a command's (also: COMMAND --help)")
        ->add_option("COMMAND", w.help_topic, "e.g. probes add");
    app.footer(
        "Programs are guest paths; a name without '/' means /bin/NAME.\n"
        "\n"
        "Exit status: 0 success; 1 the daemon answered with an error (printed with its message\n"
        "and data) or the command failed; 2 bad command line; 3 the daemon is not reachable,\n"
        "closed the connection or did not answer in time. watch and hist stopped by Ctrl-C\n"
        "(SIGINT) or SIGTERM print their final view, then end by that signal.");
    app.get_formatter()->column_width(34);
    app.get_formatter()->label("SUBCOMMAND", "COMMAND");
    app.get_formatter()->label("Subcommands", "Commands");
    app.get_formatter()->label("Positionals", "Arguments");
    app.get_formatter()->label("TEXT", "");
}

std::string command_path(const CLI::App& command) {
    std::string path;
    for (const CLI::App* c = &command; c && c->get_parent(); c = c->get_parent())
        path = c->get_name() + (path.empty() ? "" : " " + path);
    return path;
}

const CLI::App* named_command(const CLI::App& app) {
    const CLI::App* deepest = &app;
    while (!deepest->get_subcommands().empty())
        deepest = deepest->get_subcommands().front();
    return deepest;
}

CLI::App* find_command(CLI::App& app, std::string_view topic) {
    CLI::App* command = &app;
    std::istringstream words{std::string(topic)};
    for (std::string word; words >> word;) {
        auto found = command->get_subcommands([&](CLI::App* sub) { return sub->check_name(word); });
        if (found.empty())
            return nullptr;
        command = found.front();
    }
    return command;
}

std::string help_text(std::string_view topic) {
    cli_options o;
    parsed_words w;
    CLI::App app;
    declare_command_line(app, o, w);
    CLI::App* command = find_command(app, topic);
    if (!command)
        return "";
    // The usage line names the whole command: "ruprobes probes add".
    std::string parents = command_path(*command);
    parents = parents.substr(0, parents.rfind(' ') == std::string::npos ? 0 : parents.rfind(' '));
    return command == &app ? app.help()
                           : command->help(parents.empty() ? "ruprobes" : "ruprobes " + parents);
}

} // namespace ruprobes::cli
