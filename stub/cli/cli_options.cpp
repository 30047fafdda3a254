// Parsing the `ruprobes` command line: CLI11 over the declarations of cli_flags.cpp, then the
// checks across flags, per command. The value parsers it shares with the commands.
#include "cli/cli_options.hpp"

#include "cli/cli_flags.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace ruprobes::cli {
namespace {

bool is_address(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        for (char c : text.substr(2))
            if (!std::isxdigit(static_cast<unsigned char>(c)))
                return false;
        return true;
    }
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    return !text.empty();
}

} // namespace

bool parse_int(std::string_view text, int64_t& out) {
    if (text.empty())
        return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool parse_seconds(std::string_view text, double& out) {
    std::string s(text);
    if (s.empty())
        return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && std::isfinite(out) && out > 0;
}

std::string guest_program_path(std::string_view name) {
    if (name.find('/') != std::string_view::npos)
        return std::string(name);
    return "/bin/" + std::string(name);
}

bool parse_host_port(std::string_view text, std::string& host, uint16_t& port) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return false;
    std::string h(text.substr(0, colon));
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
        h = h.substr(1, h.size() - 2);
    int64_t p = 0;
    if (!parse_int(text.substr(colon + 1), p) || p <= 0 || p > 65535)
        return false;
    host = h.empty() ? "127.0.0.1" : h;
    port = static_cast<uint16_t>(p);
    return true;
}

std::optional<probe_target> parse_probe_target(std::string_view text, std::string& error) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        error = "probe target '" + std::string(text) +
                "': expected PROGRAM:SYMBOL, PROGRAM:0xADDR or PROGRAM:FILE:LINE";
        return std::nullopt;
    }
    probe_target t;
    t.program = guest_program_path(text.substr(0, colon));
    std::string_view what = text.substr(colon + 1);
    if (auto second = what.rfind(':'); second != std::string_view::npos) {
        int64_t line = 0;
        if (second == 0 || !parse_int(what.substr(second + 1), line) || line <= 0) {
            error = "probe target '" + std::string(text) + "': expected FILE:LINE after PROGRAM:";
            return std::nullopt;
        }
        t.line = std::string(what);
    } else if (is_address(what)) {
        t.address = std::string(what);
    } else {
        t.symbol = std::string(what);
    }
    return t;
}

std::optional<linear_buckets> parse_linear(const std::string& text) {
    size_t a = text.find(':');
    size_t b = a == std::string::npos ? a : text.find(':', a + 1);
    if (b == std::string::npos)
        return std::nullopt;
    int64_t min = 0, max = 0, step = 0;
    if (!parse_int(text.substr(0, a), min) || !parse_int(text.substr(a + 1, b - a - 1), max) ||
        !parse_int(text.substr(b + 1), step) || max <= min || step <= 0)
        return std::nullopt;
    return linear_buckets{min, max, step};
}

namespace {

// Splits "fib 15" (or separate words) into argv, the program as a guest path.
std::vector<std::string> command_words(const std::vector<std::string>& written) {
    std::vector<std::string> argv;
    for (const auto& text : written) {
        std::istringstream in(text);
        for (std::string word; in >> word;)
            argv.push_back(word);
    }
    if (!argv.empty())
        argv[0] = guest_program_path(argv[0]);
    return argv;
}

// CLI11's report of a bad command line in the words of ruprobes ("CMD: ...").
std::string describe_parse_error(const CLI::ParseError& e, CLI::App& app) {
    const CLI::App* command = named_command(app);
    std::string name = command_path(*command);
    std::string prefix = name.empty() ? "" : name + ": ";
    std::vector<std::string> extra = app.remaining();
    if (!extra.empty()) {
        const std::string& word = extra.front();
        if (word.size() > 1 && word[0] == '-')
            return prefix + "unknown option '" + word + "'";
        if (!command->get_subcommands({}).empty())
            return "unknown command '" + (prefix.empty() ? word : name + " " + word) +
                   "' (see ruprobes --help)";
        return prefix + "unexpected argument '" + word + "'";
    }
    std::string what = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e)) {
        auto subcommands = command->get_subcommands({});
        if (!subcommands.empty()) { // "probes: expected add, list or remove"
            std::string names;
            for (size_t i = 0; i < subcommands.size(); i++)
                names += (i == 0                        ? ""
                          : i + 1 == subcommands.size() ? " or "
                                                        : ", ") +
                         subcommands[i]->get_name();
            return prefix + "expected " + names;
        }
        auto is = what.find(" is required");
        return prefix + "missing " + (is == std::string::npos ? what : what.substr(0, is));
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e))
        return "option " + what.substr(0, what.find(':')) + " needs a value";
    return what;
}

// The one TARGET of probes add, count and hist --of, into o.target.
bool take_target(const parsed_words& w, cli_options& o, std::string& error) {
    auto t = parse_probe_target(w.operand, error);
    if (t)
        o.target = *t;
    return t.has_value();
}

bool take_id(const std::string& command, const parsed_words& w, const char* what, cli_options& o,
             std::string& error) {
    if (!parse_int(w.operand, o.id) || o.id < 0) {
        error = command + ": expected " + what + ", got '" + w.operand + "'";
        return false;
    }
    return true;
}

// count TARGET, hist TARGET --of FIELD: the checks across their flags.
bool take_aggregation(const std::string& command, const parsed_words& w, cli_options& o,
                      std::string& error) {
    if (!take_target(w, o, error))
        return false;
    if (!w.run.empty()) {
        o.run = command_words(w.run);
        if (o.run.empty()) {
            error = command + ": --run needs a command, e.g. --run \"/bin/fib 15\"";
            return false;
        }
    }
    if (o.by == "ret" || o.of == "ret" || o.of == "retval" || o.by == "retval") {
        if (!o.kind.empty() && o.kind != "return") {
            error = command + ": ret exists only at returns (--return)";
            return false;
        }
        o.kind = "return";
    }
    if (o.interval && (*o.interval < 0.1 || *o.interval > 3600)) {
        error = command + ": --interval is 0.1 to 3600 seconds (the daemon sends the table)";
        return false;
    }
    if (o.linear && !parse_linear(*o.linear)) {
        error = "hist: --linear is MIN:MAX:STEP (integers, MAX > MIN, STEP > 0), got '" +
                *o.linear + "'";
        return false;
    }
    o.command = command_kind::aggregate;
    return true;
}

// hist PROBE: the call-duration histogram takes none of the aggregation's flags.
bool take_duration_hist(const parsed_words& w, cli_options& o, std::string& error) {
    if (o.linear || !o.by.empty() || !w.run.empty() || o.condition || !o.kind.empty()) {
        error = "hist: --by, --linear, --run, --if and the probe kind need --of (an "
                "aggregation in the kernel); a call-duration histogram takes PROBE only";
        return false;
    }
    o.hist_probe = w.operand;
    int64_t id = 0;
    std::string ignored;
    if (!parse_int(o.hist_probe, id) && !parse_probe_target(o.hist_probe, ignored)) {
        error = "hist: expected a probe id or PROGRAM:SYMBOL, got '" + o.hist_probe + "'";
        return false;
    }
    o.command = command_kind::hist;
    return true;
}

bool take_watch(const parsed_words& w, cli_options& o, std::string& error) {
    for (const auto& word : w.probe_words) {
        int64_t id = 0;
        if (!parse_int(word, id) || id < 0) {
            error = "--probe: expected a probe id, got '" + word + "'";
            return false;
        }
        o.probes.push_back(id);
    }
    o.command = command_kind::watch;
    return true;
}

bool take_help(const parsed_words& w, cli_options& o, std::string& error) {
    std::string topic;
    for (const auto& word : w.help_topic)
        topic += (topic.empty() ? "" : " ") + word;
    cli_options unused;
    parsed_words unused_words;
    CLI::App app;
    declare_command_line(app, unused, unused_words);
    CLI::App* command = find_command(app, topic);
    if (!command) {
        error = "help: no such command '" + topic + "'";
        return false;
    }
    o.command = command_kind::help;
    o.help_topic = command_path(*command);
    return true;
}

// What the named command needs beyond its flags' own checks; sets o.command.
bool take_command(const std::string& command, const parsed_words& w, cli_options& o,
                  std::string& error) {
    static const std::pair<const char*, command_kind> plain[] = {
        {"status", command_kind::status},
        {"ps", command_kind::ps},
        {"probes list", command_kind::probes_list},
    };
    for (const auto& [name, kind] : plain)
        if (command == name) {
            o.command = kind;
            return true;
        }
    if (command == "help")
        return take_help(w, o, error);
    if (command == "watch")
        return take_watch(w, o, error);
    if (command == "probes add") {
        o.command = command_kind::probes_add;
        return take_target(w, o, error);
    }
    if (command == "probes remove") {
        o.command = command_kind::probes_remove;
        return take_id(command, w, "a probe id", o, error);
    }
    if (command == "kill") {
        o.command = command_kind::kill;
        return take_id(command, w, "a process id", o, error);
    }
    if (command == "spawn") {
        o.command = command_kind::spawn;
        o.argv = command_words(w.program);
        if (o.argv.empty())
            error = "spawn: empty command";
        return !o.argv.empty();
    }
    if (command == "count" || !o.of.empty())
        return take_aggregation(command, w, o, error);
    return take_duration_hist(w, o, error);
}

} // namespace

parse_result parse_command_line(const std::vector<std::string>& args) {
    cli_options o;
    parsed_words w;
    CLI::App app;
    declare_command_line(app, o, w);
    std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 takes them so
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        o.command = command_kind::help;
        o.help_topic = command_path(*named_command(app));
        return o;
    } catch (const CLI::ParseError& e) {
        if (o.command != command_kind::version)
            return tl::unexpected(describe_parse_error(e, app));
    }
    // --version, or only global flags: nothing to take.
    std::string command = command_path(*named_command(app));
    if (o.command == command_kind::version || command.empty())
        return o;
    std::string error;
    if (!take_command(command, w, o, error))
        return tl::unexpected(error);
    return o;
}

} // namespace ruprobes::cli
