// `ruprobes watch` and `ruprobes hist`: a subscription to probe hits, fed into a watch_model and
// shown in place on a terminal (ANSI cursor-up + erase) or as periodic plain tables otherwise.
#include "cli/commands.hpp"
#include "cli/watch_model.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ruprobes::cli {
namespace {

using clock = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;

void on_stop_signal(int signal) {
    stop_requested = signal;
}

// Prints lines; on a terminal first moves back over what the previous call printed, and cuts
// lines to the terminal's width and height so that none wraps or scrolls (which would break the
// move back). The `last` view is printed whole: nothing moves back over it.
class screen {
public:
    explicit screen(bool tty) : tty_(tty) {}
    void show(const std::vector<std::string>& lines, bool last = false) {
        size_t width = 0;
        winsize ws{};
        if (tty_ && !last && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
            width = ws.ws_col - 1;
        size_t count = lines.size();
        if (tty_ && ws.ws_row > 1)
            count = std::min(count, static_cast<size_t>(ws.ws_row - 1)); // no scrolling either
        if (tty_ && previous_ > 0)
            std::printf("\033[%zuA\r\033[J", previous_);
        for (size_t i = 0; i < count; i++) {
            const std::string& l = lines[i];
            std::printf("%s\n", width && l.size() > width ? l.substr(0, width).c_str() : l.c_str());
        }
        std::fflush(stdout);
        previous_ = count;
    }
    bool tty() const { return tty_; }

private:
    bool tty_;
    size_t previous_ = 0;
};

double seconds_between(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Receives notifications until the duration passes or a stop signal arrives; every `interval`
// refreshes the probe list, closes a rate interval and calls `draw(elapsed_s)`.
template <typename Draw>
void collect(rpc_client& c, watch_model& model, std::optional<double> duration, double interval,
             Draw draw) {
    auto start = clock::now();
    auto last_tick = start;
    auto next_tick = start + std::chrono::duration_cast<clock::duration>(
                                 std::chrono::duration<double>(interval));
    auto end = duration ? start + std::chrono::duration_cast<clock::duration>(
                                      std::chrono::duration<double>(*duration))
                        : clock::time_point::max();
    while (!stop_requested) {
        auto now = clock::now();
        if (now >= end)
            break;
        if (now >= next_tick) {
            model.set_probes(c.call("probe.list"));
            model.end_interval(seconds_between(last_tick, now));
            last_tick = now;
            draw(seconds_between(start, now));
            while (next_tick <= now)
                next_tick += std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(interval));
        }
        auto until = std::min(next_tick, end);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
        if (auto m = c.next_notification(std::max(wait, std::chrono::milliseconds(1))))
            model.on_notification(*m);
    }
    // What arrived while the last interval ran, without waiting for more.
    while (auto m = c.next_notification(std::chrono::milliseconds(0)))
        model.on_notification(*m);
    auto now = clock::now();
    try {
        model.set_probes(c.call("probe.list"));
    } catch (const connection_error&) {
        // Ctrl-C in a terminal reaches the daemon too when it runs in the same process group:
        // the final view then shows the totals as last received.
        if (!stop_requested)
            throw;
    }
    model.end_interval(seconds_between(last_tick, now));
}

std::string heading(const rpc_client& c, const char* what, double elapsed, bool final) {
    char line[256];
    std::snprintf(line, sizeof line, "ruprobes %s  %s  %.1f s%s", what, c.peer().c_str(), elapsed,
                  final ? "  (final)" : "");
    return line;
}

double default_interval(const cli_options& o, bool tty) {
    return o.interval ? *o.interval : tty ? 1.0 : 2.0;
}

} // namespace

// No SA_RESTART: a waiting poll returns at once; stop_requested holds the signal's number.
void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() {
    return stop_requested;
}

int run_watch(rpc_client& c, const cli_options& o) {
    install_stop_handlers();
    json filter = {{"kinds", {"probe.hit", "events.lost", "process.exit"}}};
    if (!o.probes.empty())
        filter["probes"] = o.probes;
    c.call("events.subscribe", filter);
    watch_model model;
    model.set_filter(o.probes);
    model.set_probes(c.call("probe.list"));

    screen out(isatty(STDOUT_FILENO) && !o.json);
    auto start = clock::now();
    collect(c, model, o.duration, default_interval(o, out.tty()), [&](double elapsed) {
        if (o.json)
            return;
        std::vector<std::string> lines{heading(c, "watch", elapsed, false)};
        for (auto& l : model.render(out.tty()))
            lines.push_back(l);
        if (!out.tty())
            lines.push_back("");
        out.show(lines);
    });
    double elapsed = seconds_between(start, clock::now());
    model.average_rates(elapsed);
    if (o.json) {
        json r = model.to_json();
        r["duration_s"] = elapsed;
        std::printf("%s\n", r.dump(2).c_str());
        return exit_ok;
    }
    std::vector<std::string> lines{heading(c, "watch", elapsed, true)};
    for (auto& l : model.render(true))
        lines.push_back(l);
    out.show(lines, true);
    return exit_ok;
}

int run_hist(rpc_client& c, const cli_options& o) {
    install_stop_handlers();
    json list = c.call("probe.list").value("probes", json::array());
    std::string program, symbol;
    json address;
    int64_t id = 0;
    bool by_id = !o.hist_probe.empty() && o.hist_probe.find(':') == std::string::npos;
    if (by_id) {
        id = std::stoll(o.hist_probe);
        for (const auto& p : list) {
            if (p.value("id", json(-1)) != id)
                continue;
            program = p.value("program", "");
            symbol = p.value("symbol", json("")).is_string() ? p["symbol"].get<std::string>() : "";
            address = p.value("address", json());
            if (p.value("offset", json(0)) != 0 || symbol.empty()) {
                std::fprintf(stderr,
                             "ruprobes: hist: probe %lld is not at the start of a known function\n",
                             static_cast<long long>(id));
                return exit_failed;
            }
        }
        if (program.empty()) {
            std::fprintf(stderr, "ruprobes: hist: no probe %lld (see ruprobes probes list)\n",
                         static_cast<long long>(id));
            return exit_failed;
        }
    } else {
        std::string error;
        auto t = parse_probe_target(o.hist_probe, error);
        if (!t || t->symbol.empty()) {
            std::fprintf(stderr, "ruprobes: hist: expected a probe id or PROGRAM:SYMBOL\n");
            return exit_failed;
        }
        program = t->program;
        symbol = t->symbol;
    }

    // The function's entry and return probes (any pid filter will do), added when missing.
    std::optional<int64_t> entry, ret;
    for (const auto& p : list) {
        if (p.value("program", "") != program || p.value("symbol", json()) != symbol ||
            p.value("offset", json(0)) != 0)
            continue;
        if (p.value("kind", "") == "entry" && !entry)
            entry = p["id"].get<int64_t>();
        if (p.value("kind", "") == "return" && !ret)
            ret = p["id"].get<int64_t>();
    }
    std::vector<int64_t> added;
    auto add = [&](const char* kind) {
        json r = c.call("probe.add", {{"program", program}, {"symbol", symbol}, {"kind", kind}});
        added.push_back(r["id"].get<int64_t>());
        return added.back();
    };
    int rc = exit_ok;
    try {
        if (!entry)
            entry = add("entry");
        if (!ret)
            ret = add("return");
        c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost", "process.exit"}},
                                    {"probes", {*entry, *ret}}});
        watch_model model;
        model.set_filter({*entry, *ret});
        model.set_probes(c.call("probe.list"));
        std::string function =
            (program.rfind("/bin/", 0) == 0 ? program.substr(5) : program) + ":" + symbol;

        screen out(isatty(STDOUT_FILENO) && !o.json);
        auto render = [&](double elapsed, bool final) {
            std::vector<std::string> lines{heading(c, "hist", elapsed, final)};
            const log2_histogram* h = model.histogram(function);
            char line[256];
            std::snprintf(line, sizeof line,
                          "%s: call durations (probes %lld -> %lld), %llu calls, %llu events lost",
                          function.c_str(), static_cast<long long>(*entry),
                          static_cast<long long>(*ret),
                          static_cast<unsigned long long>(h ? h->count() : 0),
                          static_cast<unsigned long long>(model.lost()));
            lines.push_back(line);
            if (h) {
                std::snprintf(line, sizeof line, "  min %s, mean %s, max %s",
                              format_duration(h->min()).c_str(), format_duration(h->mean()).c_str(),
                              format_duration(h->max()).c_str());
                lines.push_back(line);
                for (auto& l : h->render())
                    lines.push_back("  " + l);
            } else {
                lines.push_back("  (no completed calls yet)");
            }
            return lines;
        };
        auto start = clock::now();
        collect(c, model, o.duration, default_interval(o, true), [&](double elapsed) {
            if (out.tty())
                out.show(render(elapsed, false));
        });
        double elapsed = seconds_between(start, clock::now());
        if (o.json) {
            const log2_histogram* h = model.histogram(function);
            json r = {{"function", function},
                      {"program", program},
                      {"symbol", symbol},
                      {"entry_probe", *entry},
                      {"return_probe", *ret},
                      {"duration_s", elapsed},
                      {"lost", model.lost()},
                      {"unmatched_returns", model.pairing().unmatched_returns()},
                      {"histogram", h ? h->to_json() : log2_histogram().to_json()}};
            std::printf("%s\n", r.dump(2).c_str());
        } else {
            out.show(render(elapsed, true), true);
        }
    } catch (...) {
        for (int64_t a : added) {
            try {
                c.call("probe.remove", {{"id", a}});
            } catch (...) {
            }
        }
        throw;
    }
    for (int64_t a : added)
        c.call("probe.remove", {{"id", a}});
    if (!added.empty() && !o.json)
        std::printf("(removed the %zu probe%s added for this histogram)\n", added.size(),
                    added.size() == 1 ? "" : "s");
    return rc;
}

} // namespace ruprobes::cli
