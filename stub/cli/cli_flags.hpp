// The `ruprobes` commands and flags, declared once for CLI11: the parser (cli_options.cpp) and
// the generated help (help_text) both come from these declarations.
#pragma once

#include "cli/cli_options.hpp"

#include <CLI/CLI.hpp>

namespace ruprobes::cli {

// What CLI11 collects besides the fields of cli_options: the words checked once every flag is
// parsed (cli_options.cpp), and which command was named.
struct parsed_words {
    std::string operand;                  // the command's TARGET, ID or PROBE
    std::vector<std::string> program;     // spawn's PROGRAM ARGS
    std::vector<std::string> help_topic;  // help COMMAND...
    std::vector<std::string> probe_words; // watch --probe ID (repeatable)
    std::vector<std::string> run;         // --run "CMD" as written
};

// Declares the commands of `ruprobes` and their flags on `app`, each bound to its field of `o`
// or `w`; a flag's value is checked as it is parsed (CLI::ValidationError "FLAG: ...").
void declare_command_line(CLI::App& app, cli_options& o, parsed_words& w);

// "probes add" for the subcommand `add` of `probes`; "" for the top level.
std::string command_path(const CLI::App& command);

// The deepest command named on the command line (`app` itself when none).
const CLI::App* named_command(const CLI::App& app);

// The command of `topic` ("probes add", "probe list"; "" is `app`); null when there is none.
CLI::App* find_command(CLI::App& app, std::string_view topic);

} // namespace ruprobes::cli
