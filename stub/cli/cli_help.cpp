// The help texts of `ruprobes` and each of its commands.
#include "cli/cli_options.hpp"

namespace ruprobes::cli {
namespace {

constexpr const char* general_help =
    "Usage: ruprobes [--connect HOST:PORT] [--json] [--timeout S] COMMAND [ARGS]...\n"
    "Trace user programs of the RISC-V guest through ruprobesd's JSON-RPC 2.0 server.\n"
    "\n"
    "Commands:\n"
    "  status                         the daemon and whether the guest kernel is connected\n"
    "  ps                             processes of the guest\n"
    "  spawn \"PROGRAM ARGS\"           start a guest program, e.g. spawn \"/bin/fib 20\"\n"
    "  kill PID                       kill a guest process\n"
    "  probes add TARGET [--entry|--return|--insn] [--pid N] [--if EXPR]\n"
    "                                 add a trace probe; TARGET is PROGRAM:SYMBOL,\n"
    "                                 PROGRAM:0xADDR or PROGRAM:FILE:LINE (fib:fib, fib:fib.c:9)\n"
    "  probes list                    probes with their hit counts\n"
    "  probes remove ID               remove a probe (the original instruction is restored)\n"
    "  watch [--duration S] [--probe ID]...\n"
    "                                 live view of probe hits: count, rate, last arguments or\n"
    "                                 return value, and call-duration histograms\n"
    "  hist PROBE [--duration S]      call-duration histogram of one function (PROBE: a probe\n"
    "                                 id or PROGRAM:SYMBOL; missing entry/return probes are\n"
    "                                 added for the run and removed afterwards)\n"
    "  count TARGET [--by FIELD] [--if EXPR] [--run \"CMD\"]\n"
    "                                 count calls in the kernel, per pid, tid, argument or\n"
    "                                 return value (e.g. count fib:fib --by a0)\n"
    "  hist TARGET --of FIELD [--by FIELD] [--linear MIN:MAX:STEP] [--run \"CMD\"]\n"
    "                                 histogram of an argument or the return value, computed\n"
    "                                 in the kernel (e.g. hist fib:fib --of ret)\n"
    "  help [COMMAND]                 this text, or a command's (also: COMMAND --help)\n"
    "\n"
    "Options:\n"
    "      --connect HOST:PORT   the daemon's JSON-RPC address (default 127.0.0.1:4242;\n"
    "                            the environment variable RUPROBES_CONNECT sets the default)\n"
    "      --json                print the daemon's results as JSON instead of text\n"
    "      --timeout S           seconds to wait for each answer of the daemon (default 30)\n"
    "  -h, --help                show help and exit\n"
    "      --version             print the version and exit\n"
    "\n"
    "Programs are guest paths; a name without '/' means /bin/NAME.\n"
    "\n"
    "Exit status: 0 success; 1 the daemon answered with an error (printed with its message\n"
    "and data) or the command failed; 2 bad command line; 3 the daemon is not reachable,\n"
    "closed the connection or did not answer in time. watch and hist stopped by Ctrl-C\n"
    "(SIGINT) or SIGTERM print their final view, then end by that signal.\n";

struct topic_text {
    const char* topic;
    const char* text;
};

constexpr topic_text topics[] = {
    {"status", "Usage: ruprobes status\n"
               "Shows whether the guest kernel is connected to the daemon (its version and boot\n"
               "id) and the daemon's counters (sessions, subscribers, events published).\n"
               "With --json: the result of target.status.\n"},
    {"ps", "Usage: ruprobes ps\n"
           "Lists the guest's processes: pid, state (running, stopped, exited), program.\n"
           "With --json: the result of process.list.\n"},
    {"spawn", "Usage: ruprobes spawn [--stopped] \"PROGRAM [ARGS]...\"\n"
              "       ruprobes spawn [--stopped] PROGRAM [ARGS]...\n"
              "Starts a guest program and prints its pid. PROGRAM is a guest path (/bin/fib) or\n"
              "a name (fib = /bin/fib). Words after PROGRAM are its arguments, even if they\n"
              "start with '-'.\n"
              "      --stopped   create it stopped at its entry, for gdb to attach\n"
              "With --json: the result of process.spawn.\n"},
    {"kill", "Usage: ruprobes kill PID\n"
             "Kills a guest process.\n"},
    {"probes", "Usage: ruprobes probes add|list|remove ...\n"
               "See ruprobes probes add --help, probes list --help, probes remove --help.\n"},
    {"probes add",
     "Usage: ruprobes probes add TARGET [--entry|--return|--insn] [--pid N] [--if EXPR]\n"
     "Adds a trace probe (hits are recorded, nothing stops) and prints its id.\n"
     "TARGET:\n"
     "  PROGRAM:SYMBOL     a function, e.g. fib:fib or /bin/ticker:tick\n"
     "  PROGRAM:0xADDR     an instruction address in the program's ELF (hex or decimal)\n"
     "  PROGRAM:FILE:LINE  the first instruction of a source line, e.g. fib:fib.c:9\n"
     "Kind (default: --entry for a symbol, --insn otherwise):\n"
     "      --entry        at the function's first instruction\n"
     "      --return       when the function returns (hits carry the return value)\n"
     "      --insn         at that instruction\n"
     "      --kind KIND    the same as --entry, --return or --insn\n"
     "      --pid N        only in process N (default: every current and future process)\n"
     "      --if EXPR      only the hits where EXPR holds, evaluated in the kernel: a C-like\n"
     "                     expression over a0-a7 (arg0-arg7), x0-x31, sp, ra, pc, pid, tid,\n"
     "                     ret (--return), casts and loads, e.g. 'a0 == 3' or\n"
     "                     '*(u32 *)(a1 + 8) > 100' (docs/jsonrpc.md, Conditions)\n"
     "With --json: the result of probe.add.\n"},
    {"probes list", "Usage: ruprobes probes list\n"
                    "Lists the probes: id, kind, program:symbol+offset, address, how the engine\n"
                    "executes the displaced instruction (simulate or out_of_line), hits.\n"
                    "With --json: the result of probe.list.\n"},
    {"probes remove", "Usage: ruprobes probes remove ID\n"
                      "Removes a probe; the original instruction is back in every process.\n"
                      "Prints the probe's final hit count.\n"},
    {"watch",
     "Usage: ruprobes watch [--duration S] [--interval S] [--probe ID]...\n"
     "Subscribes to probe hits and shows, per probe: hits (the daemon's total), the rate seen\n"
     "during the last interval, and the last hit (pid, arguments a0-a2 for entry and insn\n"
     "probes, the return value for return probes); the number of events the daemon reported\n"
     "lost (events.lost); and for every function with an entry and a return probe a\n"
     "histogram of call durations (guest clock), from entry/return pairs matched per thread\n"
     "by stack pointer.\n"
     "On a terminal the view is redrawn in place every interval (default 1 s); otherwise a\n"
     "plain table is printed every interval (default 2 s). The last table, printed at the\n"
     "end, adds the histograms; its rates are averages over the whole watch.\n"
     "      --duration S   stop after S seconds (default: until Ctrl-C; Ctrl-C prints the\n"
     "                     final view, then ends the command as interrupted)\n"
     "      --interval S   seconds between redraws or tables\n"
     "      --probe ID     only this probe (repeatable; default: every probe)\n"
     "With --json: nothing while running, then one JSON object with the probes, the\n"
     "histograms and the lost count.\n"},
    {"hist",
     "Usage: ruprobes hist PROBE [--duration S] [--interval S]\n"
     "       ruprobes hist TARGET --of FIELD [--by FIELD] [--linear MIN:MAX:STEP]\n"
     "                     [--entry|--return|--insn] [--if EXPR] [--run \"CMD\" | --duration S]\n"
     "Without --of: call-duration histogram of one function. PROBE is a probe id (of an\n"
     "entry or a return probe) or PROGRAM:SYMBOL. The function needs an entry and a\n"
     "return probe: those missing are added for this run and removed at the end.\n"
     "      --duration S   collect for S seconds (default: until Ctrl-C)\n"
     "      --interval S   on a terminal, seconds between redraws (default 1)\n"
     "With --of: a histogram of a value, computed in the kernel at each hit (no event\n"
     "per hit reaches the host). TARGET as for probes add; a probe is added for the run\n"
     "and removed at the end.\n"
     "      --of FIELD     a0-a7 (arg0-arg7), or ret (the return value: implies --return)\n"
     "      --by FIELD     one histogram per pid, tid, a0-a7 or ret\n"
     "      --linear MIN:MAX:STEP\n"
     "                     buckets of STEP from MIN to MAX (default: powers of 2)\n"
     "      --if EXPR      only the hits where EXPR holds (see probes add --help)\n"
     "      --run \"CMD\"    start this guest program and stop when it exits\n"
     "      --duration S   otherwise: collect for S seconds (default: until Ctrl-C)\n"
     "With --json: the result of probe.aggregate.\n"},
    {"count", "Usage: ruprobes count TARGET [--by FIELD] [--entry|--return|--insn] [--if EXPR]\n"
              "                      [--run \"CMD\" | --duration S]\n"
              "Counts the hits of TARGET in the kernel (no event per hit reaches the host), in\n"
              "total or per key. TARGET as for probes add; a probe is added for the run and\n"
              "removed at the end.\n"
              "      --by FIELD     one count per pid, tid, a0-a7 (arg0-arg7) or ret (the\n"
              "                     return value: implies --return)\n"
              "      --if EXPR      only the hits where EXPR holds (see probes add --help)\n"
              "      --run \"CMD\"    start this guest program and stop when it exits\n"
              "      --duration S   otherwise: count for S seconds (default: until Ctrl-C)\n"
              "With --json: the result of probe.aggregate.\n"},
};

} // namespace

std::string help_text(std::string_view topic) {
    if (topic.empty())
        return general_help;
    for (const auto& t : topics)
        if (topic == t.topic)
            return t.text;
    return "";
}

} // namespace ruprobes::cli
