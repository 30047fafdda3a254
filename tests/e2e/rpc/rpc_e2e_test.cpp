// ruprobesd with the reference kernel in QEMU, driven over JSON-RPC by real clients: the fib
// scenario (entry + return probe on fib, `/bin/fib 15`: exactly 1973 + 1973 hits,
// every sequence number, no events.lost, return values = fib(n)) with the Python stdlib client
// in both framings and with VS Code's vscode-jsonrpc; then bad input against the real engine.
#include "rpc_daemon_fixture.hpp"
#include "ruprobes_test/paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

const std::string e2e_dir = RUPROBES_RPC_E2E_DIR;

class rpc_e2e : public rpc_daemon_fixture {
protected:
    // Runs a client to completion; its output.
    std::string run_client(std::vector<std::string> argv, const std::string& log, int& status) {
        spawn_options c;
        c.argv = std::move(argv);
        c.output_file = dir.file(log);
        child_process client(c);
        auto code = client.wait_exit(150s);
        status = code ? *code : -1;
        return client.output();
    }
};

TEST_F(rpc_e2e, python_client_fib_15_line_framing_then_lsp_framing) {
    for (const char* framing : {"", "--lsp"}) {
        std::vector<std::string> argv = {"python3", e2e_dir + "/fib_trace.py", "--port",
                                         std::to_string(port)};
        if (*framing)
            argv.push_back(framing);
        int status = 0;
        std::string out = run_client(argv, std::string("python") + framing + ".log", status);
        EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
        EXPECT_NE(out.find("fib_trace: ok: 1973 entry + 1973 return hits"), std::string::npos)
            << out;
    }
}

TEST_F(rpc_e2e, node_vscode_jsonrpc_client_fib_15) {
    ASSERT_TRUE(std::filesystem::exists(e2e_dir + "/node/node_modules/vscode-jsonrpc"))
        << "npm package missing: run scripts/setup (npm ci in tests/e2e/rpc/node)";
    int status = 0;
    std::string out =
        run_client({"node", e2e_dir + "/node/fib_trace.js", "--port", std::to_string(port)},
                   "node.log", status);
    EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
    EXPECT_NE(out.find("fib_trace.js: ok: 1973 entry + 1973 return hits"), std::string::npos)
        << out;
}

TEST_F(rpc_e2e, bad_input_gets_clear_errors_and_the_daemon_keeps_serving) {
    int status = 0;
    std::string out = run_client(
        {"python3", e2e_dir + "/bad_input.py", "--port", std::to_string(port)}, "bad.log", status);
    EXPECT_EQ(status, 0) << out << "\n--- ruprobesd:\n" << daemon->output();
    EXPECT_NE(out.find("bad_input: ok"), std::string::npos) << out;
}

// Hits of `probe` in process `pid` up to its process.exit (every hit comes before it), or -1 when
// the exit never came.
int count_hits(rpc_test_client& c, uint64_t probe, int64_t pid) {
    int hits = 0;
    for (;;) {
        auto msg = c.receive(30s);
        if (!msg)
            return -1;
        const json& p = (*msg)["params"];
        if ((*msg)["method"] == "probe.hit" && p["probe"] == probe && p["pid"] == pid)
            hits++;
        if ((*msg)["method"] == "process.exit" && p["pid"] == pid)
            return hits;
    }
}

// Causal order: process.exec, then the process's hits in seq order, then process.exit. A client
// that stops reading at process.exit has every hit: fib(12) makes 465 calls.
TEST_F(rpc_e2e, a_client_that_stops_reading_at_process_exit_has_every_hit_in_order) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    c.call("events.subscribe",
           {{"kinds", {"probe.hit", "process.exec", "process.exit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    for (int run = 0; run < 3; run++) {
        json proc = c.call("process.spawn", {{"argv", {"/bin/fib", "12"}}});
        ASSERT_TRUE(proc.contains("result")) << proc.dump();
        int64_t pid = proc["result"]["pid"];
        bool exec_seen = false;
        bool exit_seen = false;
        int hits = 0;
        int lost_notices = 0;
        uint64_t last_seq = 0;
        while (!exit_seen) {
            auto msg = next_message(c, 30s);
            ASSERT_TRUE(msg) << "no process.exit; " << hits << " hits\n" << daemon->output();
            const json& p = (*msg)["params"];
            std::string method = (*msg)["method"];
            if (method == "events.lost")
                lost_notices++;
            if (method == "process.exec" && p["pid"] == pid) {
                EXPECT_EQ(hits, 0) << "process.exec after a hit of its process";
                exec_seen = true;
            }
            if (method == "probe.hit" && p["pid"] == pid && p["probe"] == id) {
                EXPECT_TRUE(exec_seen) << "a hit before its process.exec";
                uint64_t seq = p["seq"];
                EXPECT_GT(seq, last_seq) << "hits out of seq order";
                last_seq = seq;
                hits++;
            }
            if (method == "process.exit" && p["pid"] == pid)
                exit_seen = true;
        }
        EXPECT_TRUE(exec_seen);
        EXPECT_EQ(hits, 465) << "run " << run << ": hits after process.exit or lost";
        EXPECT_EQ(lost_notices, 0);
    }
}

// Conditions compiled by the daemon and evaluated in the kernel: only the hits whose condition
// holds reach the subscriber. fib(15) calls fib(k) F(16 - k) times: 610 calls with n == 1 and
// 377 with n == 2; 987 calls return 1 (fib(1) and fib(2)).
TEST_F(rpc_e2e, conditions_select_the_hits_in_the_kernel) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "process.exit", "events.lost"}}});
    json one =
        c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}, {"condition", "a0 == 1"}});
    ASSERT_TRUE(one.contains("result")) << one.dump();
    EXPECT_EQ(one["result"]["condition"], "a0 == 1");
    json two = c.call(
        "probe.add",
        {{"program", "/bin/fib"}, {"symbol", "fib"}, {"condition", "pid != 0 && (u32)arg0 == 2"}});
    ASSERT_TRUE(two.contains("result")) << two.dump();
    json returns_one = c.call("probe.add", {{"program", "/bin/fib"},
                                            {"symbol", "fib"},
                                            {"kind", "return"},
                                            {"condition", "ret == 1"}});
    ASSERT_TRUE(returns_one.contains("result")) << returns_one.dump();
    // Errors name the column, and nothing is armed for them.
    json bad = c.call("probe.add",
                      {{"program", "/bin/fib"}, {"symbol", "fib"}, {"condition", "a0 == foo"}});
    ASSERT_TRUE(bad.contains("error")) << bad.dump();
    EXPECT_EQ(bad["error"]["code"], -32602);
    EXPECT_EQ(bad["error"]["data"]["column"], 7);
    EXPECT_NE(bad["error"]["data"]["reason"].get<std::string>().find("unknown name 'foo'"),
              std::string::npos);
    json no_ret = c.call("probe.add",
                         {{"program", "/bin/fib"}, {"symbol", "fib"}, {"condition", "ret == 1"}});
    ASSERT_TRUE(no_ret.contains("error")) << no_ret.dump();
    EXPECT_NE(no_ret["error"]["data"]["reason"].get<std::string>().find("return probes"),
              std::string::npos);

    json proc = c.call("process.spawn", {{"argv", {"/bin/fib", "15"}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    int64_t pid = proc["result"]["pid"];
    std::map<uint64_t, int> hits;
    std::map<uint64_t, std::set<uint64_t>> values; // a0 at entry, ret at return
    int lost = 0;
    for (bool exited = false; !exited;) {
        auto msg = next_message(c, 30s);
        ASSERT_TRUE(msg) << "no process.exit\n" << daemon->output();
        const json& p = (*msg)["params"];
        std::string method = (*msg)["method"];
        if (method == "events.lost")
            lost++;
        if (method == "probe.hit" && p["pid"] == pid) {
            uint64_t id = p["probe"];
            hits[id]++;
            const json& v = p.contains("ret") ? p["ret"] : p["args"][0];
            values[id].insert(v.is_string() ? std::stoull(v.get<std::string>(), nullptr, 0)
                                            : v.get<uint64_t>());
        }
        if (method == "process.exit" && p["pid"] == pid)
            exited = true;
    }
    EXPECT_EQ(lost, 0);
    uint64_t id_one = one["result"]["id"], id_two = two["result"]["id"],
             id_ret = returns_one["result"]["id"];
    EXPECT_EQ(hits[id_one], 610);
    EXPECT_EQ(hits[id_two], 377);
    EXPECT_EQ(hits[id_ret], 987);
    EXPECT_EQ(values[id_one], (std::set<uint64_t>{1}));
    EXPECT_EQ(values[id_two], (std::set<uint64_t>{2}));
    EXPECT_EQ(values[id_ret], (std::set<uint64_t>{1}));
    // The model's counts agree with the stream.
    json removed = c.call("probe.remove", {{"id", id_one}});
    ASSERT_TRUE(removed.contains("result")) << removed.dump();
    EXPECT_EQ(removed["result"]["hits"], 610);
}

// fib(n)'s calls, by argument, and the values they return (the program's own recursion).
void count_fib_calls(uint64_t n, std::map<uint64_t, uint64_t>& by_arg,
                     std::map<uint64_t, uint64_t>& by_result, uint64_t& result) {
    by_arg[n]++;
    if (n < 2) {
        result = n;
    } else {
        uint64_t a = 0, b = 0;
        count_fib_calls(n - 1, by_arg, by_result, a);
        count_fib_calls(n - 2, by_arg, by_result, b);
        result = a + b;
    }
    by_result[result]++;
}

// Aggregations computed in the kernel: counts by argument and by process, and a histogram of
// return values, equal to what fib's recursion makes; no probe.hit is sent for them.
TEST_F(rpc_e2e, aggregations_are_computed_in_the_kernel) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "process.exit", "events.lost"}}});
    json by_arg = c.call(
        "probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}, {"aggregate", {{"by", "a0"}}}});
    ASSERT_TRUE(by_arg.contains("result")) << by_arg.dump();
    EXPECT_EQ(by_arg["result"]["aggregate"]["by"], "a0");
    json by_pid = c.call("probe.add", {{"program", "/bin/fib"},
                                       {"symbol", "fib"},
                                       {"condition", "a0 < 2"},
                                       {"aggregate", {{"by", "pid"}, {"of", "a0"}}}});
    ASSERT_TRUE(by_pid.contains("result")) << by_pid.dump();
    json returns = c.call("probe.add", {{"program", "/bin/fib"},
                                        {"symbol", "fib"},
                                        {"kind", "return"},
                                        {"aggregate", {{"of", "ret"}, {"hist", "log2"}}}});
    ASSERT_TRUE(returns.contains("result")) << returns.dump();
    json linear =
        c.call("probe.add",
               {{"program", "/bin/fib"},
                {"symbol", "fib"},
                {"aggregate",
                 {{"of", "arg0"}, {"hist", "linear"}, {"min", 2}, {"max", 14}, {"step", 4}}}});
    ASSERT_TRUE(linear.contains("result")) << linear.dump();
    // Refusals say what is wrong.
    json bad = c.call("probe.add",
                      {{"program", "/bin/fib"}, {"symbol", "fib"}, {"aggregate", {{"of", "ret"}}}});
    ASSERT_TRUE(bad.contains("error")) << bad.dump();
    EXPECT_NE(bad["error"]["data"]["reason"].get<std::string>().find("return probes"),
              std::string::npos);

    std::vector<int64_t> pids;
    for (const char* n : {"15", "10"}) {
        json proc = c.call("process.spawn", {{"argv", {"/bin/fib", n}}});
        ASSERT_TRUE(proc.contains("result")) << proc.dump();
        int64_t pid = proc["result"]["pid"];
        pids.push_back(pid);
        int hits = 0;
        for (bool exited = false; !exited;) {
            auto msg = next_message(c, 30s);
            ASSERT_TRUE(msg) << "no process.exit\n" << daemon->output();
            if ((*msg)["method"] == "probe.hit")
                hits++;
            if ((*msg)["method"] == "process.exit" && (*msg)["params"]["pid"] == pid)
                exited = true;
        }
        EXPECT_EQ(hits, 0) << "an aggregation sent hits";
    }
    std::map<uint64_t, uint64_t> calls15, results15, calls10, results10;
    uint64_t r = 0;
    count_fib_calls(15, calls15, results15, r);
    count_fib_calls(10, calls10, results10, r);

    json a = c.call("probe.aggregate", {{"id", by_arg["result"]["id"]}});
    ASSERT_TRUE(a.contains("result")) << a.dump();
    EXPECT_EQ(a["result"]["hits"], 1973 + 177);
    EXPECT_EQ(a["result"]["dropped"], 0);
    std::map<uint64_t, uint64_t> got;
    for (const json& e : a["result"]["entries"])
        got[e["key"].get<uint64_t>()] = e["count"];
    std::map<uint64_t, uint64_t> want = calls15;
    for (auto [k, v] : calls10)
        want[k] += v;
    EXPECT_EQ(got, want);
    EXPECT_EQ(got[1], 610u + 55u);

    json p = c.call("probe.aggregate", {{"id", by_pid["result"]["id"]}});
    ASSERT_TRUE(p.contains("result")) << p.dump();
    ASSERT_EQ(p["result"]["entries"].size(), 2u) << p.dump();
    for (const json& e : p["result"]["entries"]) {
        bool first = e["key"] == pids[0];
        const auto& calls = first ? calls15 : calls10;
        EXPECT_EQ(e["count"], calls.at(0) + calls.at(1)) << e.dump();
        EXPECT_EQ(e["sum"], calls.at(1)) << e.dump(); // a0 < 2: the n == 1 calls add 1 each
        EXPECT_EQ(e["min"], 0);
        EXPECT_EQ(e["max"], 1);
    }

    json h = c.call("probe.aggregate", {{"id", returns["result"]["id"]}});
    ASSERT_TRUE(h.contains("result")) << h.dump();
    ASSERT_EQ(h["result"]["entries"].size(), 1u);
    const json& all = h["result"]["entries"][0];
    std::map<uint64_t, uint64_t> results = results15;
    for (auto [k, v] : results10)
        results[k] += v;
    // log2 buckets of the return values: 0 alone, then [2^n, 2^(n+1) - 1].
    std::map<int64_t, uint64_t> want_hist;
    uint64_t sum = 0;
    for (auto [value, n] : results) {
        sum += value * n;
        want_hist[value == 0 ? 0 : int64_t(1) << (63 - __builtin_clzll(value))] += n;
    }
    std::map<int64_t, uint64_t> got_hist;
    for (const json& b : all["hist"])
        got_hist[b["from"].get<int64_t>()] = b["count"];
    EXPECT_EQ(got_hist, want_hist) << all.dump();
    EXPECT_EQ(all["count"], 1973 + 177);
    EXPECT_EQ(all["sum"], sum);
    EXPECT_EQ(all["max"], 610);

    json l = c.call("probe.aggregate", {{"id", linear["result"]["id"]}});
    ASSERT_TRUE(l.contains("result")) << l.dump();
    std::map<std::string, uint64_t> got_linear, want_linear;
    for (const json& b : l["result"]["entries"][0]["hist"])
        got_linear[b.value("from", json(nullptr)).dump() + ".." +
                   b.value("to", json(nullptr)).dump()] = b["count"];
    for (auto [n, k] : want) {
        std::string bucket = n < 2     ? "null..1"
                             : n >= 14 ? "14..null"
                                       : std::to_string(2 + (n - 2) / 4 * 4) + ".." +
                                             std::to_string(2 + (n - 2) / 4 * 4 + 3);
        want_linear[bucket] += k;
    }
    EXPECT_EQ(got_linear, want_linear) << l.dump();

    json list = c.call("probe.list");
    ASSERT_TRUE(list.contains("result")) << list.dump();
    int aggregates = 0;
    for (const json& e : list["result"]["probes"])
        aggregates += e.contains("aggregate") ? 1 : 0;
    EXPECT_EQ(aggregates, 4);
    json removed = c.call("probe.remove", {{"id", by_arg["result"]["id"]}});
    ASSERT_TRUE(removed.contains("result")) << removed.dump();
    EXPECT_EQ(removed["result"]["hits"], 1973 + 177);
    json gone = c.call("probe.aggregate", {{"id", by_arg["result"]["id"]}});
    EXPECT_TRUE(gone.contains("error")) << gone.dump();
}

// A subscriber that reads nothing while /bin/loop makes its hits falls behind the daemon's log:
// the hits it receives plus the counts of its events.lost notices are every hit made.
// aggregate.every: the table comes to subscribers as probe.aggregate notifications; after the
// program's exit the next one holds every call, and none comes after probe.remove answered.
TEST_F(rpc_e2e, aggregation_tables_are_sent_periodically_until_the_probe_is_removed) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    json bad = c.call(
        "probe.add",
        {{"program", "/bin/fib"}, {"symbol", "fib"}, {"aggregate", {{"by", "a0"}, {"every", 5}}}});
    ASSERT_TRUE(bad.contains("error")) << bad.dump();
    EXPECT_NE(bad["error"]["data"]["reason"].get<std::string>().find("\"every\" is 100 to"),
              std::string::npos)
        << bad.dump();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "probe.aggregate", "process.exit"}}});
    json added = c.call("probe.add", {{"program", "/bin/fib"},
                                      {"symbol", "fib"},
                                      {"aggregate", {{"by", "a0"}, {"every", 200}}}});
    ASSERT_TRUE(added.contains("result")) << added.dump();
    EXPECT_EQ(added["result"]["aggregate"]["every"], 200);
    uint64_t id = added["result"]["id"];
    json proc = c.call("process.spawn", {{"argv", {"/bin/fib", "15"}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    int64_t pid = proc["result"]["pid"];
    std::map<uint64_t, uint64_t> calls, results;
    uint64_t r = 0;
    count_fib_calls(15, calls, results, r);
    bool exited = false;
    int hits = 0, tables = 0;
    std::optional<json> final_table;
    while (!final_table) {
        auto msg = next_message(c, 30s);
        ASSERT_TRUE(msg) << "no probe.aggregate after the exit\n" << daemon->output();
        if ((*msg)["method"] == "probe.hit")
            hits++;
        if ((*msg)["method"] == "process.exit" && (*msg)["params"]["pid"] == pid)
            exited = true;
        if ((*msg)["method"] == "probe.aggregate") {
            tables++;
            EXPECT_EQ((*msg)["params"]["id"], id) << msg->dump();
            if (exited)
                final_table = (*msg)["params"];
        }
    }
    EXPECT_EQ(hits, 0) << "an aggregation sent hits";
    EXPECT_GE(tables, 1);
    EXPECT_EQ((*final_table)["hits"], 1973) << final_table->dump();
    std::map<uint64_t, uint64_t> got;
    for (const json& e : (*final_table)["entries"])
        got[e["key"].get<uint64_t>()] = e["count"];
    EXPECT_EQ(got, calls);
    EXPECT_EQ(got[1], 610u);

    json removed = c.call("probe.remove", {{"id", id}});
    ASSERT_TRUE(removed.contains("result")) << removed.dump();
    // No table may come before a marker: the exit of a process spawned after the removal.
    json proc2 = c.call("process.spawn", {{"argv", {"/bin/fib", "1"}}});
    ASSERT_TRUE(proc2.contains("result")) << proc2.dump();
    for (bool marker = false; !marker;) {
        auto msg = next_message(c, 30s);
        ASSERT_TRUE(msg) << "no process.exit of the marker\n" << daemon->output();
        EXPECT_NE((*msg)["method"], "probe.aggregate") << "a table after probe.remove";
        marker =
            (*msg)["method"] == "process.exit" && (*msg)["params"]["pid"] == proc2["result"]["pid"];
    }
}

TEST_F(rpc_e2e, a_lagging_subscribers_hits_plus_announced_losses_are_every_hit_made) {
    constexpr int calls = 300000;
    rpc_test_client control(port);
    ASSERT_FALSE(wait_connected(control).empty()) << daemon->output();
    rpc_test_client lagging(port, rpc_test_client::framing::line, 4096);
    json sub =
        lagging.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost", "process.exit"}}});
    ASSERT_TRUE(sub.contains("result")) << sub.dump();
    control.call("events.subscribe", {{"kinds", {"process.exit", "events.lost"}}});
    json probe = control.call("probe.add", {{"program", "/bin/loop"}, {"symbol", "step"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    json proc = control.call("process.spawn", {{"argv", {"/bin/loop", std::to_string(calls)}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    int64_t pid = proc["result"]["pid"];
    // The lagging client reads nothing until the process is gone.
    for (;;) {
        auto exit = control.wait_notification("process.exit", 120s);
        ASSERT_TRUE(exit) << daemon->output();
        if ((*exit)["params"]["pid"] == pid)
            break;
    }
    uint64_t hits = 0, lost_behind = 0, lost_kernel = 0;
    for (;;) {
        auto msg = next_message(lagging, 30s);
        ASSERT_TRUE(msg) << "no process.exit; " << hits << " hits\n" << daemon->output();
        const json& p = (*msg)["params"];
        std::string method = (*msg)["method"];
        if (method == "probe.hit" && p["probe"] == id && p["pid"] == pid)
            hits++;
        if (method == "events.lost")
            (p["reason"] == "kernel_ring_full" ? lost_kernel : lost_behind) +=
                p["count"].get<uint64_t>();
        if (method == "process.exit" && p["pid"] == pid)
            break;
    }
    EXPECT_GT(lost_behind, 0u) << "the subscriber never fell behind: the test proves nothing";
    EXPECT_EQ(hits + lost_behind + lost_kernel, uint64_t(calls))
        << hits << " received, " << lost_behind << " lost behind, " << lost_kernel
        << " lost in the kernel";
    // The control client kept up: it saw every kernel loss notice.
    uint64_t control_lost_kernel = 0;
    for (const json& m : control.notifications) {
        if (m["method"] == "events.lost")
            control_lost_kernel += m["params"]["count"].get<uint64_t>();
    }
    EXPECT_LE(lost_kernel, control_lost_kernel);
    json list = control.call("probe.list");
    uint64_t counted = list["result"]["probes"][0]["hits"];
    EXPECT_EQ(counted + control_lost_kernel, uint64_t(calls)) << list.dump();
}

// A subscriber that reads, but slower than /bin/loop makes hits, loses nothing: the daemon takes
// the kernel's hits no faster than it reads (event_hub::readers_behind), where it would otherwise
// fall more than the daemon's window (4,096 events) behind and skip ahead. The reader's pace is
// simulated load (a pause every 50 messages), not synchronisation.
TEST_F(rpc_e2e, a_slow_subscriber_that_keeps_reading_loses_no_hit) {
    constexpr int calls = 60000;
    rpc_test_client slow(port, rpc_test_client::framing::line, 4096);
    ASSERT_FALSE(wait_connected(slow).empty()) << daemon->output();
    json sub =
        slow.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost", "process.exit"}}});
    ASSERT_TRUE(sub.contains("result")) << sub.dump();
    json probe = slow.call("probe.add", {{"program", "/bin/loop"}, {"symbol", "step"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    json proc = slow.call("process.spawn", {{"argv", {"/bin/loop", std::to_string(calls)}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    int64_t pid = proc["result"]["pid"];
    uint64_t hits = 0, lost = 0, messages = 0;
    std::set<std::string> reasons;
    for (bool exited = false; !exited;) {
        auto msg = next_message(slow, 60s);
        ASSERT_TRUE(msg) << "no process.exit; " << hits << " hits\n" << daemon->output();
        if (++messages % 50 == 0)
            std::this_thread::sleep_for(1ms);
        const json& p = (*msg)["params"];
        std::string method = (*msg)["method"];
        if (method == "probe.hit" && p["probe"] == id && p["pid"] == pid)
            hits++;
        if (method == "events.lost") {
            lost += p["count"].get<uint64_t>();
            reasons.insert(p["reason"].get<std::string>());
        }
        exited = method == "process.exit" && p["pid"] == pid;
    }
    EXPECT_EQ(lost, 0u) << "reasons: " << json(reasons).dump();
    EXPECT_EQ(hits, uint64_t(calls));
}

// QEMU killed and started again under the daemon (--qemu-socket): subscribers hear of it and the
// JSON-RPC trace probe is armed again in the new kernel with the same id.
TEST(rpc_e2e_restart, trace_probe_survives_a_qemu_restart) {
    temp_dir dir;
    guest_options opts;
    opts.append = "ruprobes.stay";
    opts.agent_channel = true;
    auto guest = std::make_unique<qemu_guest>(dir, opts);
    uint16_t port = free_tcp_port();
    spawn_options d;
    d.argv = ruprobesd_argv(qemu_socket_target(guest->agent_socket()), port);
    d.output_file = dir.file("ruprobesd.log");
    child_process daemon(d);
    ASSERT_TRUE(daemon.wait_for_output("JSON-RPC server listening", 20s)) << daemon.output();

    rpc_test_client c(port);
    std::string boot1 = wait_connected(c);
    ASSERT_FALSE(boot1.empty()) << daemon.output();
    c.call("events.subscribe",
           {{"kinds", {"probe.hit", "process.exit", "target.connected", "target.disconnected"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    uint64_t id = probe["result"]["id"];
    json p1 = c.call("process.spawn", {{"argv", {"/bin/fib", "10"}}});
    ASSERT_TRUE(p1.contains("result")) << p1.dump();
    EXPECT_EQ(count_hits(c, id, p1["result"]["pid"]), 177); // calls of fib(10)

    guest->process().stop(); // QEMU goes away
    ASSERT_TRUE(c.wait_notification("target.disconnected", 30s)) << daemon.output();
    guest = std::make_unique<qemu_guest>(dir, opts); // same socket path
    auto up = c.wait_notification("target.connected", 60s);
    ASSERT_TRUE(up) << daemon.output();
    EXPECT_NE((*up)["params"]["boot_id"], boot1);

    json list = c.call("probe.list");
    ASSERT_EQ(list["result"]["probes"].size(), 1u) << list.dump();
    EXPECT_EQ(list["result"]["probes"][0]["id"], id);
    json p2 = c.call("process.spawn", {{"argv", {"/bin/fib", "10"}}});
    ASSERT_TRUE(p2.contains("result")) << p2.dump();
    EXPECT_EQ(count_hits(c, id, p2["result"]["pid"]), 177) << daemon.output();
    EXPECT_TRUE(daemon.running());
    daemon.stop();
}

// Under `-icount shift=0` the guest clock counts instructions: with sleep=off it jumps over idle
// time and runs far ahead of the host, and every boot reaches the agent at the same count. The
// agent's lease runs on the host's clock and its boot id mixes in the host's wall clock, so the
// session survives a guest that sleeps 30 s (three 10 s leases) of its own time, and two boots
// have different boot ids.
class rpc_e2e_icount : public ::testing::TestWithParam<const char*> {};

TEST_P(rpc_e2e_icount, session_outlives_the_lease_in_guest_time_and_boots_differ) {
    temp_dir dir;
    guest_options opts;
    opts.append = "ruprobes.stay";
    opts.agent_channel = true;
    opts.extra = {"-icount", std::string("shift=0,sleep=") + GetParam()};
    std::vector<std::string> boot_ids;
    for (int boot = 0; boot < 2; boot++) {
        qemu_guest guest(dir, opts);
        uint16_t port = free_tcp_port();
        spawn_options d;
        d.argv = ruprobesd_argv(qemu_socket_target(guest.agent_socket()), port);
        d.output_file = dir.file("ruprobesd-" + std::to_string(boot) + ".log");
        child_process daemon(d);
        ASSERT_TRUE(daemon.wait_for_output("JSON-RPC server listening", 20s)) << daemon.output();
        rpc_test_client c(port);
        std::string id = wait_connected(c);
        ASSERT_FALSE(id.empty()) << daemon.output();
        boot_ids.push_back(id);
        c.call("events.subscribe", {{"kinds", {"process.exit", "target.disconnected"}}});
        // sleep=off: 30 s of guest time pass in far less host time. sleep=on: the guest clock
        // follows the host's, so a short sleep is enough to see the session work.
        std::string ms = std::string(GetParam()) == "off" ? "30000" : "200";
        json proc = c.call("process.spawn", {{"argv", {"/bin/sleep", ms}}});
        ASSERT_TRUE(proc.contains("result")) << proc.dump() << daemon.output();
        auto exit = c.wait_notification("process.exit", 120s);
        ASSERT_TRUE(exit) << guest.console() << daemon.output();
        EXPECT_EQ((*exit)["params"]["status"], 0) << guest.console();
        for (const json& m : c.notifications)
            EXPECT_NE(m["method"], "target.disconnected") << m.dump() << guest.console();
        json status = c.call("target.status");
        EXPECT_EQ(status["result"]["connected"], true) << status.dump();
        EXPECT_EQ(guest.console().find("lease expired"), std::string::npos) << guest.console();
        json again = c.call("process.spawn", {{"argv", {"/bin/hello"}}});
        EXPECT_TRUE(again.contains("result")) << again.dump() << guest.console();
        daemon.stop();
        guest.process().stop();
    }
    EXPECT_NE(boot_ids[0], boot_ids[1]) << "two boots under -icount got the same boot id";
}

INSTANTIATE_TEST_SUITE_P(sleep, rpc_e2e_icount, ::testing::Values("off", "on"),
                         [](const auto& info) { return std::string(info.param); });

} // namespace
} // namespace ruprobes::test
