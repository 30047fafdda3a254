// The `ruprobes` CLI against ruprobesd and the reference kernel in QEMU: entry and return probes
// on fib, `/bin/fib 15` gives 1973 hits each in `probes list` (text and --json); `watch` shows
// the probe rows and a call-duration histogram of exactly those calls; clear errors and exit
// codes for an unknown symbol and an unreachable daemon.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/ruprobesd_args.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

struct cli_run {
    int status = -1;
    std::string output; // stdout and stderr
};

class cli_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        const uint16_t port = free_tcp_port();
        rpc = "127.0.0.1:" + std::to_string(port);
        spawn_options d;
        d.argv = ruprobesd_argv(launch_target(dir), port);
        d.output_file = dir.file("ruprobesd.log");
        daemon = std::make_unique<child_process>(d);
        ASSERT_TRUE(daemon->wait_for_output("JSON-RPC server listening", 20s)) << daemon->output();
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (run({"--json", "status"}).output.find("\"connected\": true") == std::string::npos) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the kernel never connected\n"
                                                                  << daemon->output();
            std::this_thread::sleep_for(200ms);
        }
    }
    void TearDown() override {
        if (daemon) {
            EXPECT_TRUE(daemon->running()) << "ruprobesd died:\n" << daemon->output();
            daemon->stop();
        }
    }

    // Starts the CLI with --connect to the daemon.
    std::unique_ptr<child_process> start(std::vector<std::string> args) {
        spawn_options c;
        c.argv = {std::string(bin_dir) + "/ruprobes", "--connect", rpc};
        c.argv.insert(c.argv.end(), args.begin(), args.end());
        c.output_file = dir.file("cli-" + std::to_string(runs++) + ".log");
        return std::make_unique<child_process>(c);
    }
    cli_run run(std::vector<std::string> args) {
        auto c = start(std::move(args));
        auto code = c->wait_exit(60s);
        return {code ? *code : -1, c->output()};
    }

    // The probe.list result once every probe has `hits` hits (or after 30 s).
    json wait_for_hits(uint64_t hits) {
        json list;
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            cli_run r = run({"probes", "list", "--json"});
            EXPECT_EQ(r.status, 0) << r.output;
            list = json::parse(r.output);
            bool all = !list["probes"].empty();
            for (const auto& p : list["probes"])
                all = all && p["hits"].get<uint64_t>() >= hits;
            if (all)
                break;
            std::this_thread::sleep_for(200ms);
        }
        return list;
    }

    // Connections holding a subscription (the daemon's count in target.status), or -1.
    int64_t subscribers() {
        cli_run r = run({"--json", "status"});
        json s = json::parse(r.output, nullptr, false);
        if (r.status != 0 || s.is_discarded() || !s.contains("daemon"))
            return -1;
        return s["daemon"].value("subscribers", int64_t(-1));
    }
    // Waits until at least `n` connections hold a subscription (a watch or hist started: it
    // subscribes after its probes are added); false after 30 s. A client that exited may still
    // count until the daemon next writes to it, so callers compare with a count taken before.
    bool wait_for_subscribers(int64_t n) {
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (subscribers() >= n)
                return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    temp_dir dir;
    std::string rpc;
    std::unique_ptr<child_process> daemon;
    int runs = 0;
};

TEST_F(cli_e2e, fib_15_entry_and_return_probes_count_1973_hits_and_watch_shows_them) {
    cli_run r = run({"probes", "add", "fib:fib"});
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("probe \\d+: entry /bin/fib:fib at 0x")))
        << r.output;
    r = run({"probes", "add", "/bin/fib:fib", "--return", "--json"});
    ASSERT_EQ(r.status, 0) << r.output;
    json added = json::parse(r.output);
    EXPECT_EQ(added["kind"], "return");
    EXPECT_EQ(added["symbol"], "fib");

    r = run({"spawn", "/bin/fib 15"});
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("spawned pid \\d+: /bin/fib"))) << r.output;
    json list = wait_for_hits(1973);
    ASSERT_EQ(list["probes"].size(), 2u) << list.dump();
    for (const auto& p : list["probes"])
        EXPECT_EQ(p["hits"], 1973) << list.dump();
    r = run({"probes", "list"});
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("entry\\s+/bin/fib:fib\\s+0x[0-9a-f]+\\s+"
                                                       "\\w+\\s+1973")))
        << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("return\\s+/bin/fib:fib\\s+0x[0-9a-f]+\\s+"
                                                       "\\w+\\s+1973")))
        << r.output;

    // watch: subscribed once its first table is out; then another fib 15 runs under it.
    auto watch = start({"watch", "--duration", "3", "--interval", "0.25"});
    ASSERT_TRUE(watch->wait_for_output("ruprobes watch", 20s)) << watch->output();
    r = run({"spawn", "fib", "15"});
    ASSERT_EQ(r.status, 0) << r.output;
    auto code = watch->wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << watch->output();
    std::string out = watch->output();
    EXPECT_TRUE(std::regex_search(out, std::regex("entry\\s+fib:fib\\s+3946"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("return\\s+fib:fib\\s+3946"))) << out;
    EXPECT_NE(out.find("(final)"), std::string::npos) << out;
    EXPECT_NE(out.find("events lost: 0"), std::string::npos) << out;
    EXPECT_NE(out.find("hits received: 3946"), std::string::npos) << out;
    // Every call of the second run measured once: entry/return pairs matched per thread.
    EXPECT_NE(out.find("fib:fib: call durations (entry -> return, guest clock), 1973 calls"),
              std::string::npos)
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("\\[\\s*[0-9.]+[num]?s,\\s*[0-9.]+[num]?s\\)\\s+"
                                                  "\\d+ \\|@+\\s*\\|")))
        << out;

    // watch --json: one JSON document with the same numbers.
    const int64_t before = subscribers();
    ASSERT_GE(before, 0);
    auto watch_json = start({"watch", "--json", "--duration", "2", "--interval", "0.5"});
    ASSERT_TRUE(wait_for_subscribers(before + 1)) << watch_json->output();
    ASSERT_EQ(run({"spawn", "/bin/fib 10"}).status, 0);
    code = watch_json->wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << watch_json->output();
    json w = json::parse(watch_json->output());
    EXPECT_EQ(w["lost"], 0);
    ASSERT_EQ(w["probes"].size(), 2u) << w.dump();
    EXPECT_EQ(w["probes"][0]["seen"], 177) << w.dump(); // fib 10: 177 calls
    ASSERT_EQ(w["functions"].size(), 1u) << w.dump();
    EXPECT_EQ(w["functions"][0]["function"], "fib:fib");
    EXPECT_EQ(w["functions"][0]["histogram"]["count"], 177);

    // hist by id, then removing a probe reports its final count.
    r = run({"probes", "remove", std::to_string(added["id"].get<int64_t>())});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("(4123 hits)"), std::string::npos) << r.output; // 1973*2 + 177
}

// A probe added with --fetch: watch shows what the kernel fetched at the last hit, here the
// string /bin/hello writes (write(1, "hello from user space", 21), then write(1, "\n", 1)).
TEST_F(cli_e2e, watch_shows_what_a_fetching_probe_fetched) {
    cli_run r = run({"probes", "add", "hello:write", "--fetch", "a0,a2,str:a1"});
    ASSERT_EQ(r.status, 0) << r.output;
    const int64_t before = subscribers();
    ASSERT_GE(before, 0);
    auto watch = start({"watch", "--json", "--duration", "2", "--interval", "0.5"});
    ASSERT_TRUE(wait_for_subscribers(before + 1)) << watch->output();
    ASSERT_EQ(run({"spawn", "/bin/hello"}).status, 0);
    auto code = watch->wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << watch->output();
    json w = json::parse(watch->output());
    ASSERT_EQ(w["probes"].size(), 1u) << w.dump();
    EXPECT_EQ(w["probes"][0]["seen"], 2) << w.dump();
    // The last of the two writes: fd 1, one byte, the newline.
    EXPECT_TRUE(std::regex_match(w["probes"][0]["last"].get<std::string>(),
                                 std::regex("pid \\d+ a0=0x1 a2=0x1 a1=\"\n\"")))
        << w.dump();
}

// The aggregation one-liners: counts and histograms computed in the kernel for the length of a
// --run, then printed; the probe is gone afterwards. fib(15) calls fib(k) F(16 - k) times for
// k >= 1 (and fib(0) as often as fib(2)); fib(12) makes 465 calls, 233 of them return 1.
TEST_F(cli_e2e, count_and_hist_one_liners_aggregate_in_the_kernel) {
    cli_run count = run({"count", "fib:fib", "--by", "a0", "--run", "/bin/fib 15"});
    ASSERT_EQ(count.status, 0) << count.output;
    EXPECT_NE(count.output.find("fib:fib (entry): count by a0; 1973 hits, 0 dropped"),
              std::string::npos)
        << count.output;
    std::map<int, int> by_n;
    std::istringstream lines(count.output);
    for (std::string line; std::getline(lines, line);) {
        int n = 0, calls = 0;
        if (std::sscanf(line.c_str(), " %d %d", &n, &calls) == 2)
            by_n[n] = calls;
    }
    const int fibonacci[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610};
    ASSERT_EQ(by_n.size(), 16u) << count.output;
    EXPECT_EQ(by_n[0], 377);
    for (int k = 1; k <= 15; k++)
        EXPECT_EQ(by_n[k], fibonacci[16 - k]) << "calls of fib(" << k << ")";

    cli_run hist = run({"hist", "fib:fib", "--of", "ret", "--json", "--run", "fib 12"});
    ASSERT_EQ(hist.status, 0) << hist.output;
    json h = json::parse(hist.output);
    ASSERT_EQ(h["entries"].size(), 1u) << hist.output;
    EXPECT_EQ(h["entries"][0]["count"], 465);
    EXPECT_EQ(h["entries"][0]["max"], 144);
    int ones = 0;
    for (const json& b : h["entries"][0]["hist"])
        if (b.value("from", -1) == 1)
            ones = b["count"];
    EXPECT_EQ(ones, 233) << hist.output;

    cli_run conditional = run({"count", "fib:fib", "--if", "a0 == 2", "--run", "fib 10"});
    ASSERT_EQ(conditional.status, 0) << conditional.output;
    EXPECT_NE(conditional.output.find("34 hits"), std::string::npos) << conditional.output;

    // --interval: the daemon sends the table every 0.1 s while a long run goes on (one JSON line
    // each), then the last one; its counts only grow.
    cli_run spawned = run({"spawn", "/bin/loop 1000000000"});
    ASSERT_EQ(spawned.status, 0) << spawned.output;
    cli_run periodic =
        run({"count", "loop:step", "--interval", "0.1", "--duration", "2", "--json"});
    ASSERT_EQ(periodic.status, 0) << periodic.output;
    std::vector<uint64_t> hits;
    std::istringstream tables(periodic.output);
    for (std::string line; std::getline(tables, line);) {
        if (line.rfind("{\"aggregate\"", 0) == 0)
            hits.push_back(json::parse(line)["hits"].get<uint64_t>());
    }
    ASSERT_GE(hits.size(), 1u) << "no table on the way in 2 s at 0.1 s\n" << periodic.output;
    EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end())) << periodic.output;
    int loop_pid = 0;
    ASSERT_EQ(std::sscanf(spawned.output.c_str(), "spawned pid %d", &loop_pid), 1)
        << spawned.output;
    cli_run killed = run({"kill", std::to_string(loop_pid)});
    EXPECT_EQ(killed.status, 0) << killed.output;
    cli_run too_often = run({"count", "fib:fib", "--interval", "0.01"});
    EXPECT_EQ(too_often.status, 2) << too_often.output;

    cli_run bad = run({"count", "fib:fib", "--by", "x99", "--run", "fib 3"});
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("\"by\" is pid"), std::string::npos) << bad.output;
    cli_run usage = run({"hist", "fib:fib", "--by", "a0"});
    EXPECT_EQ(usage.status, 2) << usage.output;

    json list = json::parse(run({"probes", "list", "--json"}).output);
    EXPECT_TRUE(list["probes"].empty()) << list.dump(); // every probe of the runs is removed
}

TEST_F(cli_e2e, ps_status_hist_json_and_errors) {
    cli_run r = run({"--json", "ps"});
    ASSERT_EQ(r.status, 0) << r.output;
    json ps = json::parse(r.output);
    EXPECT_TRUE(ps["processes"].is_array()) << r.output;
    r = run({"status"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("target:  connected"), std::string::npos) << r.output;

    // hist adds the missing entry and return probes for its run and removes them afterwards.
    const int64_t before = subscribers();
    ASSERT_GE(before, 0);
    auto hist = start({"hist", "fib:fib", "--duration", "3", "--json"});
    ASSERT_TRUE(wait_for_subscribers(before + 1)) << hist->output();
    ASSERT_EQ(run({"spawn", "/bin/fib 10"}).status, 0);
    auto code = hist->wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << hist->output();
    json h = json::parse(hist->output());
    EXPECT_EQ(h["function"], "fib:fib");
    EXPECT_EQ(h["histogram"]["count"], 177) << h.dump();
    r = run({"--json", "probes", "list"});
    EXPECT_TRUE(json::parse(r.output)["probes"].empty()) << r.output;

    // A JSON-RPC error object: message and data shown, exit code 1.
    r = run({"probes", "add", "fib:no_such_function"});
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("Unknown symbol (code -32011)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("no_such_function"), std::string::npos) << r.output;
    r = run({"kill", "9999"});
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("No such process"), std::string::npos) << r.output;
    // Usage errors: 2; help: 0.
    r = run({"probes", "add", "fib"});
    EXPECT_EQ(r.status, 2) << r.output;
    r = run({"probes", "remove"});
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("probes remove: missing ID"), std::string::npos) << r.output;
    r = run({"probe", "add", "--help"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Usage: ruprobes probes add [OPTIONS] TARGET"), std::string::npos)
        << r.output;
    // No daemon there: 3.
    spawn_options c;
    c.argv = {std::string(bin_dir) + "/ruprobes", "--connect",
              "127.0.0.1:" + std::to_string(free_tcp_port()), "ps"};
    c.output_file = dir.file("unreachable.log");
    child_process unreachable(c);
    code = unreachable.wait_exit(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 3) << unreachable.output();
    EXPECT_NE(unreachable.output().find("cannot connect to ruprobesd"), std::string::npos)
        << unreachable.output();
}

} // namespace
} // namespace ruprobes::test
