#include "cli/cli_options.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace ruprobes::cli {
namespace {

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

// Options that take a value: "--name value" or "--name=value". Returns false (with error set)
// when the value is missing.
struct option_reader {
    const std::vector<std::string>& words;
    size_t& i;
    std::string& error;

    bool matches(std::string_view name, std::string& value, bool& missing) {
        const std::string& w = words[i];
        if (w == name) {
            if (i + 1 >= words.size()) {
                error = "option " + std::string(name) + " needs a value";
                missing = true;
                return true;
            }
            value = words[++i];
            return true;
        }
        if (w.size() > name.size() && w.compare(0, name.size(), name) == 0 &&
            w[name.size()] == '=') {
            value = w.substr(name.size() + 1);
            return true;
        }
        return false;
    }
};

std::string join(const std::vector<std::string>& words, size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to && i < words.size(); i++)
        out += (out.empty() ? "" : " ") + words[i];
    return out;
}

} // namespace

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

parse_result parse_command_line(const std::vector<std::string>& args) {
    parse_result r;
    cli_options o;
    std::vector<std::string> words;
    bool want_help = false;
    bool after_dashes = false;
    for (size_t i = 0; i < args.size(); i++) {
        const std::string& a = args[i];
        if (after_dashes) {
            words.push_back(a);
            continue;
        }
        std::string value;
        bool missing = false;
        option_reader rd{args, i, r.error};
        if (a == "--") {
            after_dashes = true;
            words.push_back(a);
        } else if (a == "-h" || a == "--help") {
            want_help = true;
        } else if (a == "--version") {
            o.command = command_kind::version;
            r.options = o;
            return r;
        } else if (a == "--json") {
            o.json = true;
        } else if (rd.matches("--connect", value, missing)) {
            if (missing)
                return r;
            if (!parse_host_port(value, o.host, o.port)) {
                r.error = "--connect: expected HOST:PORT, got '" + value + "'";
                return r;
            }
        } else if (rd.matches("--timeout", value, missing)) {
            if (missing)
                return r;
            if (!parse_seconds(value, o.timeout_s)) {
                r.error = "--timeout: expected a number of seconds, got '" + value + "'";
                return r;
            }
        } else {
            words.push_back(a);
        }
    }

    if (words.empty()) { // only options (or --help): the general help
        o.command = command_kind::help;
        r.options = o;
        return r;
    }

    std::string cmd = words[0];
    size_t first = 1;
    if (cmd == "probe")
        cmd = "probes";
    if (cmd == "probes") {
        if (words.size() < 2 || words[1] == "--") {
            if (want_help) {
                o.help_topic = "probes";
                r.options = o;
                return r;
            }
            r.error = "probes: expected add, list or remove";
            return r;
        }
        cmd += " " + words[1];
        first = 2;
    }
    if (cmd == "help") {
        o.command = command_kind::help;
        o.help_topic = join(words, 1, words.size());
        if (o.help_topic == "probe" || o.help_topic.rfind("probe ", 0) == 0)
            o.help_topic.insert(5, "s");
        if (help_text(o.help_topic).empty()) {
            r.error = "help: no such command '" + o.help_topic + "'";
            return r;
        }
        r.options = o;
        return r;
    }
    if (help_text(cmd).empty() || cmd.empty()) {
        r.error = "unknown command '" + cmd + "' (see ruprobes --help)";
        return r;
    }
    if (want_help) {
        o.command = command_kind::help;
        o.help_topic = cmd;
        r.options = o;
        return r;
    }

    std::vector<std::string> positional;
    bool dashes = false;
    for (size_t i = first; i < words.size(); i++) {
        const std::string& w = words[i];
        std::string value;
        bool missing = false;
        option_reader rd{words, i, r.error};
        if (dashes || w.size() < 2 || w[0] != '-' || (cmd == "spawn" && !positional.empty())) {
            positional.push_back(w);
        } else if (w == "--") {
            dashes = true;
        } else if ((cmd == "probes add" || cmd == "count" || cmd == "hist") &&
                   (w == "--entry" || w == "--return" || w == "--insn")) {
            if (!o.kind.empty() && o.kind != w.substr(2)) {
                r.error = cmd + ": choose one of --entry, --return, --insn";
                return r;
            }
            o.kind = w.substr(2);
        } else if ((cmd == "count" || cmd == "hist") && rd.matches("--by", value, missing)) {
            if (missing)
                return r;
            o.by = value;
        } else if (cmd == "hist" && rd.matches("--of", value, missing)) {
            if (missing)
                return r;
            o.of = value;
        } else if (cmd == "hist" && rd.matches("--linear", value, missing)) {
            if (missing)
                return r;
            o.linear = value;
        } else if ((cmd == "count" || cmd == "hist") && rd.matches("--run", value, missing)) {
            if (missing)
                return r;
            std::istringstream in(value);
            for (std::string word; in >> word;)
                o.run.push_back(word);
            if (o.run.empty()) {
                r.error = cmd + ": --run needs a command, e.g. --run \"/bin/fib 15\"";
                return r;
            }
            o.run[0] = guest_program_path(o.run[0]);
        } else if (cmd == "probes add" && rd.matches("--kind", value, missing)) {
            if (missing)
                return r;
            if (value != "entry" && value != "return" && value != "insn") {
                r.error = "probes add: --kind is entry, return or insn, got '" + value + "'";
                return r;
            }
            o.kind = value;
        } else if (cmd == "probes add" && rd.matches("--pid", value, missing)) {
            if (missing)
                return r;
            int64_t pid = 0;
            if (!parse_int(value, pid) || pid <= 0) {
                r.error = "--pid: expected a process id, got '" + value + "'";
                return r;
            }
            o.pid = pid;
        } else if ((cmd == "probes add" || cmd == "count" || cmd == "hist") &&
                   rd.matches("--if", value, missing)) {
            if (missing)
                return r;
            o.condition = value;
        } else if (cmd == "spawn" && w == "--stopped") {
            o.stopped = true;
        } else if ((cmd == "watch" || cmd == "hist" || cmd == "count") &&
                   rd.matches("--duration", value, missing)) {
            if (missing)
                return r;
            double s = 0;
            if (!parse_seconds(value, s)) {
                r.error = "--duration: expected a number of seconds, got '" + value + "'";
                return r;
            }
            o.duration = s;
        } else if ((cmd == "watch" || cmd == "hist") && rd.matches("--interval", value, missing)) {
            if (missing)
                return r;
            double s = 0;
            if (!parse_seconds(value, s)) {
                r.error = "--interval: expected a number of seconds, got '" + value + "'";
                return r;
            }
            o.interval = s;
        } else if (cmd == "watch" && rd.matches("--probe", value, missing)) {
            if (missing)
                return r;
            int64_t id = 0;
            if (!parse_int(value, id) || id < 0) {
                r.error = "--probe: expected a probe id, got '" + value + "'";
                return r;
            }
            o.probes.push_back(id);
        } else {
            r.error = cmd + ": unknown option '" + w + "'";
            return r;
        }
    }

    auto want_positional = [&](size_t n, const char* what) {
        if (positional.size() == n)
            return true;
        r.error = cmd + (positional.size() < n ? ": missing " : ": unexpected argument ") +
                  (positional.size() < n ? std::string(what) : "'" + positional[n] + "'");
        return false;
    };
    auto want_id = [&](const char* what) {
        if (!want_positional(1, what))
            return false;
        if (!parse_int(positional[0], o.id) || o.id < 0) {
            r.error = cmd + ": expected " + what + ", got '" + positional[0] + "'";
            return false;
        }
        return true;
    };

    // The one positional TARGET of probes add, count and hist --of, into o.target.
    auto want_target = [&]() {
        if (!want_positional(1, "PROGRAM:SYMBOL (or PROGRAM:0xADDR, PROGRAM:FILE:LINE)"))
            return false;
        auto t = parse_probe_target(positional[0], r.error);
        if (t)
            o.target = *t;
        return t.has_value();
    };

    if (cmd == "status" || cmd == "ps" || cmd == "probes list" || cmd == "watch") {
        if (!want_positional(0, ""))
            return r;
        o.command = cmd == "status"  ? command_kind::status
                    : cmd == "ps"    ? command_kind::ps
                    : cmd == "watch" ? command_kind::watch
                                     : command_kind::probes_list;
    } else if (cmd == "probes add") {
        if (!want_target())
            return r;
        o.command = command_kind::probes_add;
    } else if (cmd == "probes remove") {
        if (!want_id("a probe id"))
            return r;
        o.command = command_kind::probes_remove;
    } else if (cmd == "kill") {
        if (!want_id("a process id"))
            return r;
        o.command = command_kind::kill;
    } else if (cmd == "spawn") {
        if (positional.empty()) {
            r.error = "spawn: missing the command, e.g. \"/bin/fib 20\"";
            return r;
        }
        // One quoted word "fib 20" or separate words: both become argv.
        for (const auto& p : positional) {
            std::istringstream in(p);
            std::string word;
            while (in >> word)
                o.argv.push_back(word);
        }
        if (o.argv.empty()) {
            r.error = "spawn: empty command";
            return r;
        }
        o.argv[0] = guest_program_path(o.argv[0]);
        o.command = command_kind::spawn;
    } else if (cmd == "count" || (cmd == "hist" && !o.of.empty())) {
        if (!want_target())
            return r;
        if (o.by == "ret" || o.of == "ret" || o.of == "retval" || o.by == "retval") {
            if (!o.kind.empty() && o.kind != "return") {
                r.error = cmd + ": ret exists only at returns (--return)";
                return r;
            }
            o.kind = "return";
        }
        if (o.linear && !parse_linear(*o.linear)) {
            r.error = "hist: --linear is MIN:MAX:STEP (integers, MAX > MIN, STEP > 0), got '" +
                      *o.linear + "'";
            return r;
        }
        o.command = command_kind::aggregate;
    } else if (cmd == "hist") {
        if (o.linear || !o.by.empty() || !o.run.empty() || o.condition || !o.kind.empty()) {
            r.error = "hist: --by, --linear, --run, --if and the probe kind need --of (an "
                      "aggregation in the kernel); a call-duration histogram takes PROBE only";
            return r;
        }
        if (!want_positional(1, "PROBE (a probe id or PROGRAM:SYMBOL)"))
            return r;
        o.hist_probe = positional[0];
        int64_t id = 0;
        std::string ignored;
        if (!parse_int(o.hist_probe, id) && !parse_probe_target(o.hist_probe, ignored)) {
            r.error = "hist: expected a probe id or PROGRAM:SYMBOL, got '" + o.hist_probe + "'";
            return r;
        }
        o.command = command_kind::hist;
    }
    r.options = o;
    return r;
}

} // namespace ruprobes::cli
