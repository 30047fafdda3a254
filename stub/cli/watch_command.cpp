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
call_result<void> collect(rpc_client& c, watch_model& model, std::optional<double> duration,
                          double interval, Draw draw) {
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
            auto probes = c.call("probe.list");
            if (!probes)
                return tl::unexpected(probes.error());
            model.set_probes(*probes);
            model.end_interval(seconds_between(last_tick, now));
            last_tick = now;
            draw(seconds_between(start, now));
            while (next_tick <= now)
                next_tick += std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(interval));
        }
        auto until = std::min(next_tick, end);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
        auto m = c.next_notification(std::max(wait, std::chrono::milliseconds(1)));
        if (!m)
            return tl::unexpected(m.error());
        if (*m)
            model.on_notification(**m);
    }
    // What arrived while the last interval ran, without waiting for more.
    for (;;) {
        auto m = c.next_notification(std::chrono::milliseconds(0));
        if (!m)
            return tl::unexpected(m.error());
        if (!*m)
            break;
        model.on_notification(**m);
    }
    auto now = clock::now();
    auto probes = c.call("probe.list");
    if (probes)
        model.set_probes(*probes);
    else if (probes.error().errc != call_errc::unreachable || !stop_requested)
        return tl::unexpected(probes.error());
    // else Ctrl-C in a terminal reached the daemon too (it runs in the same process group): the
    // final view shows the totals as last received.
    model.end_interval(seconds_between(last_tick, now));
    return {};
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

// events.subscribe with `filter`, then the probe list the model starts from.
call_result<void> subscribe(rpc_client& c, watch_model& model, const json& filter) {
    if (auto r = c.call("events.subscribe", filter); !r)
        return tl::unexpected(r.error());
    auto probes = c.call("probe.list");
    if (!probes)
        return tl::unexpected(probes.error());
    model.set_probes(*probes);
    return {};
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

call_result<int> run_watch(rpc_client& c, const cli_options& o) {
    install_stop_handlers();
    json filter = {{"kinds", {"probe.hit", "events.lost", "process.exit"}}};
    if (!o.probes.empty())
        filter["probes"] = o.probes;
    watch_model model;
    model.set_filter(o.probes);
    if (auto subscribed = subscribe(c, model, filter); !subscribed)
        return tl::unexpected(subscribed.error());

    screen out(isatty(STDOUT_FILENO) && !o.json);
    auto start = clock::now();
    auto collected =
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
    if (!collected)
        return tl::unexpected(collected.error());
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

namespace {

// The function of `hist PROBE`, and its entry and return probes once known.
struct hist_function {
    std::string program;
    std::string symbol;
    std::string name; // "fib:fib" (a /bin/ program by its name)
    std::optional<int64_t> entry;
    std::optional<int64_t> ret;
};

// The function PROBE names: a probe id (at the start of a known function) or PROGRAM:SYMBOL.
// Prints why and returns nothing when it names none.
std::optional<hist_function> find_hist_function(const json& list, const std::string& probe) {
    hist_function f;
    if (probe.find(':') == std::string::npos) {
        int64_t id = 0;
        parse_int(probe, id); // checked by the command line's parser
        for (const auto& p : list) {
            if (p.value("id", json(-1)) != id)
                continue;
            f.program = p.value("program", "");
            f.symbol =
                p.value("symbol", json("")).is_string() ? p["symbol"].get<std::string>() : "";
            if (p.value("offset", json(0)) != 0 || f.symbol.empty()) {
                std::fprintf(stderr,
                             "ruprobes: hist: probe %lld is not at the start of a known function\n",
                             static_cast<long long>(id));
                return std::nullopt;
            }
        }
        if (f.program.empty()) {
            std::fprintf(stderr, "ruprobes: hist: no probe %lld (see ruprobes probes list)\n",
                         static_cast<long long>(id));
            return std::nullopt;
        }
    } else {
        std::string error;
        auto t = parse_probe_target(probe, error);
        if (!t || t->symbol.empty()) {
            std::fprintf(stderr, "ruprobes: hist: expected a probe id or PROGRAM:SYMBOL\n");
            return std::nullopt;
        }
        f.program = t->program;
        f.symbol = t->symbol;
    }
    f.name = (f.program.rfind("/bin/", 0) == 0 ? f.program.substr(5) : f.program) + ":" + f.symbol;
    // The function's entry and return probes (any pid filter will do).
    for (const auto& p : list) {
        if (p.value("program", "") != f.program || p.value("symbol", json()) != f.symbol ||
            p.value("offset", json(0)) != 0)
            continue;
        if (p.value("kind", "") == "entry" && !f.entry)
            f.entry = p["id"].get<int64_t>();
        if (p.value("kind", "") == "return" && !f.ret)
            f.ret = p["id"].get<int64_t>();
    }
    return f;
}

std::vector<std::string> hist_lines(const rpc_client& c, const watch_model& model,
                                    const hist_function& f, double elapsed, bool final) {
    std::vector<std::string> lines{heading(c, "hist", elapsed, final)};
    const log2_histogram* h = model.histogram(f.name);
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s: call durations (probes %lld -> %lld), %llu calls, %llu events lost",
                  f.name.c_str(), static_cast<long long>(*f.entry), static_cast<long long>(*f.ret),
                  static_cast<unsigned long long>(h ? h->count() : 0),
                  static_cast<unsigned long long>(model.lost()));
    lines.push_back(line);
    if (!h) {
        lines.push_back("  (no completed calls yet)");
        return lines;
    }
    std::snprintf(line, sizeof line, "  min %s, mean %s, max %s", format_duration(h->min()).c_str(),
                  format_duration(h->mean()).c_str(), format_duration(h->max()).c_str());
    lines.push_back(line);
    for (auto& l : h->render())
        lines.push_back("  " + l);
    return lines;
}

json hist_json(const watch_model& model, const hist_function& f, double elapsed) {
    const log2_histogram* h = model.histogram(f.name);
    return {{"function", f.name},
            {"program", f.program},
            {"symbol", f.symbol},
            {"entry_probe", *f.entry},
            {"return_probe", *f.ret},
            {"duration_s", elapsed},
            {"lost", model.lost()},
            {"unmatched_returns", model.pairing().unmatched_returns()},
            {"histogram", h ? h->to_json() : log2_histogram().to_json()}};
}

// Subscribes to the hits of f's entry and return probes, collects and shows the histogram.
call_result<void> show_duration_hist(rpc_client& c, const cli_options& o, const hist_function& f) {
    watch_model model;
    model.set_filter({*f.entry, *f.ret});
    auto subscribed = subscribe(
        c, model,
        {{"kinds", {"probe.hit", "events.lost", "process.exit"}}, {"probes", {*f.entry, *f.ret}}});
    if (!subscribed)
        return subscribed;
    screen out(isatty(STDOUT_FILENO) && !o.json);
    auto start = clock::now();
    auto collected = collect(c, model, o.duration, default_interval(o, true), [&](double elapsed) {
        if (out.tty())
            out.show(hist_lines(c, model, f, elapsed, false));
    });
    if (!collected)
        return collected;
    double elapsed = seconds_between(start, clock::now());
    if (o.json)
        std::printf("%s\n", hist_json(model, f, elapsed).dump(2).c_str());
    else
        out.show(hist_lines(c, model, f, elapsed, true), true);
    return {};
}

} // namespace

call_result<int> run_hist(rpc_client& c, const cli_options& o) {
    install_stop_handlers();
    auto probes = c.call("probe.list");
    if (!probes)
        return tl::unexpected(probes.error());
    auto f = find_hist_function(probes->value("probes", json::array()), o.hist_probe);
    if (!f)
        return exit_failed;
    // The entry and return probes that are missing are added for this run.
    probes_for_the_run added(c);
    for (auto [kind, id] : {std::pair{"entry", &f->entry}, std::pair{"return", &f->ret}}) {
        if (*id)
            continue;
        auto r = added.add({{"program", f->program}, {"symbol", f->symbol}, {"kind", kind}});
        if (!r)
            return tl::unexpected(r.error());
        *id = *r;
    }
    if (auto shown = show_duration_hist(c, o, *f); !shown)
        return tl::unexpected(shown.error());
    size_t count = added.size();
    if (auto removed = added.remove_all(); !removed)
        return tl::unexpected(removed.error());
    if (count > 0 && !o.json)
        std::printf("(removed the %zu probe%s added for this histogram)\n", count,
                    count == 1 ? "" : "s");
    return exit_ok;
}

} // namespace ruprobes::cli
