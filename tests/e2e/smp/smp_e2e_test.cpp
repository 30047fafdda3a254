// The reference kernel on four harts (ruprobesd --harts 4) with the real daemon, JSON-RPC
// subscribers and gdb-multiarch: four traced processes at once with exact counts and causal
// order, a register/unregister storm while four processes call the probed function, and gdb
// holding one process stopped while the others keep running.
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/child_process.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* four_harts_online = "smp: 4 harts online";

// What a subscriber saw of one process.
struct process_view {
    bool exec = false;
    bool exit = false;
    bool signaled = false;
    int64_t status = -1;
    bool hit_before_exec = false;
    bool hit_after_exit = false;
    bool seq_backwards = false;
    uint64_t last_seq = 0;
    std::map<uint64_t, std::vector<uint64_t>> a0_by_probe; // every hit's a0, per probe
};

// Everything a subscriber to hits, exec, exit and losses read.
struct stream_view {
    std::map<int64_t, process_view> processes;
    uint64_t lost = 0;

    void take(const json& msg) {
        const std::string method = msg["method"];
        const json& p = msg["params"];
        if (method == "events.lost") {
            lost += p["count"].get<uint64_t>();
            return;
        }
        if (!p.contains("pid"))
            return;
        process_view& v = processes[p["pid"].get<int64_t>()];
        if (method == "process.exec")
            v.exec = true;
        if (method == "process.exit") {
            v.exit = true;
            v.status = p["status"].get<int64_t>();
            v.signaled = p["signaled"].get<bool>();
        }
        if (method == "probe.hit") {
            v.hit_before_exec |= !v.exec;
            v.hit_after_exit |= v.exit;
            const uint64_t seq = p["seq"];
            v.seq_backwards |= seq <= v.last_seq;
            v.last_seq = seq;
            const uint64_t a0 = std::stoull(p["args"][0].get<std::string>(), nullptr, 16);
            v.a0_by_probe[p["probe"].get<uint64_t>()].push_back(a0);
        }
    }

    // Reads until `done()` holds; false on a 60 s silence.
    template <typename Done>
    bool read_until(rpc_test_client& c, Done done) {
        while (!done()) {
            auto msg = next_notification(c, 60s);
            if (!msg)
                return false;
            take(*msg);
        }
        return true;
    }

    size_t exits(const std::vector<int64_t>& pids) const {
        return std::count_if(pids.begin(), pids.end(), [&](int64_t pid) {
            auto it = processes.find(pid);
            return it != processes.end() && it->second.exit;
        });
    }
};

int64_t spawn(rpc_test_client& c, std::vector<std::string> argv) {
    json proc = c.call("process.spawn", {{"argv", argv}});
    EXPECT_TRUE(proc.contains("result")) << proc.dump();
    return proc.contains("result") ? proc["result"]["pid"].get<int64_t>() : -1;
}

uint64_t add_probe(rpc_test_client& c, json params) {
    json probe = c.call("probe.add", params);
    EXPECT_TRUE(probe.contains("result")) << probe.dump();
    return probe.contains("result") ? probe["result"]["id"].get<uint64_t>() : 0;
}

std::string console_of(const temp_dir& dir) {
    return read_text(dir.file("console.log"));
}

// ruprobesd --launch --harts 4, a JSON-RPC client connected to it, the kernel up on four harts
// and the client subscribed to hits, exec, exit and losses.
class smp_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        d = std::make_unique<rpc_daemon>(dir, "", "ruprobesd",
                                         std::vector<std::string>{"--harts", "4"});
        c = std::make_unique<rpc_test_client>(d->rpc_port());
        ASSERT_FALSE(wait_target_connected(*c).empty()) << d->process().output();
        ASSERT_NE(console_of(dir).find(four_harts_online), std::string::npos) << console_of(dir);
        json s = c->call("events.subscribe",
                         {{"kinds", {"probe.hit", "process.exec", "process.exit", "events.lost"}}});
        ASSERT_TRUE(s.contains("result")) << s.dump();
    }

    temp_dir dir;
    std::unique_ptr<rpc_daemon> d;
    std::unique_ptr<rpc_test_client> c;
};

} // namespace

// Four processes trace fib(15) at once, on four harts: each makes exactly 1973 entry and 1973
// return hits, in seq order, between its process.exec and its process.exit, and nothing is lost.
TEST_F(smp_e2e, four_processes_trace_fib_15_at_once) {
    rpc_test_client& c = *this->c;
    const uint64_t entry = add_probe(c, {{"program", "/bin/fib"}, {"symbol", "fib"}});
    const uint64_t ret =
        add_probe(c, {{"program", "/bin/fib"}, {"symbol", "fib"}, {"kind", "return"}});
    std::vector<int64_t> pids;
    for (int i = 0; i < 4; i++)
        pids.push_back(spawn(c, {"/bin/fib", "15"}));
    stream_view seen;
    ASSERT_TRUE(seen.read_until(c, [&] { return seen.exits(pids) == pids.size(); }))
        << seen.exits(pids) << " of 4 exits\n"
        << console_of(dir);
    EXPECT_EQ(seen.lost, 0u);
    for (int64_t pid : pids) {
        const process_view& v = seen.processes[pid];
        SCOPED_TRACE("pid " + std::to_string(pid));
        EXPECT_TRUE(v.exec);
        EXPECT_EQ(v.status, 0);
        EXPECT_FALSE(v.hit_before_exec);
        EXPECT_FALSE(v.hit_after_exit);
        EXPECT_FALSE(v.seq_backwards);
        EXPECT_EQ(v.a0_by_probe.count(entry) ? v.a0_by_probe.at(entry).size() : 0, 1973u);
        EXPECT_EQ(v.a0_by_probe.count(ret) ? v.a0_by_probe.at(ret).size() : 0, 1973u);
    }
}

// 1,000 rounds of probe.add and probe.remove on paced's step(i) while four processes call it
// (step's argument counts up by one per call): during each probe's lifetime every process's hits
// carry consecutive arguments, none missing and none twice. Afterwards the processes still call
// step (two later sleep_ms hits each) and live: a breakpoint left in their text would have
// killed them with SIGTRAP.
TEST_F(smp_e2e, register_unregister_storm_while_four_processes_run) {
    rpc_test_client& c = *this->c;
    std::vector<int64_t> pids;
    for (int i = 0; i < 4; i++)
        pids.push_back(spawn(c, {"/bin/paced", "5000", "3600000"}));
    stream_view seen;
    constexpr int rounds = 1000;
    std::set<uint64_t> storm_probes;
    for (int round = 0; round < rounds; round++) {
        const uint64_t id = add_probe(c, {{"program", "/bin/paced"}, {"symbol", "step"}});
        ASSERT_NE(id, 0u) << "round " << round;
        storm_probes.insert(id);
        json removed = c.call("probe.remove", {{"id", id}});
        ASSERT_TRUE(removed.contains("result")) << "round " << round << ": " << removed.dump();
        while (!c.notifications.empty()) { // kept while waiting for the replies
            seen.take(c.notifications.front());
            c.notifications.erase(c.notifications.begin());
        }
    }
    const uint64_t after = add_probe(c, {{"program", "/bin/paced"}, {"symbol", "sleep_ms"}});
    ASSERT_TRUE(seen.read_until(c, [&] {
        return std::all_of(pids.begin(), pids.end(), [&](int64_t pid) {
            auto& by_probe = seen.processes[pid].a0_by_probe;
            return seen.processes[pid].exit ||
                   (by_probe.count(after) && by_probe.at(after).size() >= 2);
        });
    })) << console_of(dir);
    json list = c.call("process.list");
    for (int64_t pid : pids) {
        SCOPED_TRACE("pid " + std::to_string(pid));
        const process_view& v = seen.processes[pid];
        EXPECT_FALSE(v.exit) << "status " << v.status << "\n" << console_of(dir);
        EXPECT_FALSE(v.seq_backwards);
        bool listed = false;
        for (const auto& p : list["result"]["processes"])
            listed |= p["pid"] == pid && p["state"] == "running";
        EXPECT_TRUE(listed) << list.dump();
        size_t hits = 0;
        for (const auto& [probe, a0s] : v.a0_by_probe) {
            if (!storm_probes.count(probe))
                continue;
            hits += a0s.size();
            for (size_t i = 1; i < a0s.size(); i++)
                ASSERT_EQ(a0s[i], a0s[i - 1] + 1) << "probe " << probe << ": hit " << i;
        }
        EXPECT_GT(hits, 0u) << "no storm probe ever hit";
    }
    EXPECT_EQ(seen.lost, 0u);
    for (int64_t pid : pids)
        c.call("process.kill", {{"pid", pid}});
    ASSERT_TRUE(seen.read_until(c, [&] { return seen.exits(pids) == pids.size(); }));
    for (int64_t pid : pids)
        EXPECT_TRUE(seen.processes[pid].signaled) << pid;
}

// gdb stops fib at a breakpoint and holds it; meanwhile three traced processes keep hitting on
// the other harts, and fib stays stopped where gdb left it until gdb continues.
TEST_F(smp_e2e, gdb_holds_one_process_while_the_others_run) {
    rpc_test_client& c = *this->c;
    const uint64_t step = add_probe(c, {{"program", "/bin/paced"}, {"symbol", "step"}});
    std::vector<int64_t> pids;
    for (int i = 0; i < 3; i++)
        pids.push_back(spawn(c, {"/bin/paced", "2000", "3600000"}));
    const std::string flag = dir.file("go");
    spawn_options g;
    g.argv = gdb_batch_argv(
        "fib",
        {"target extended-remote 127.0.0.1:" + std::to_string(d->rsp_port()),
         "set remote exec-file /bin/fib", "break fib", "run 5", "echo STOPPED\\n",
         "shell while [ ! -e " + flag + " ]; do sleep 0.05; done", "p n", "delete", "continue"});
    g.output_file = dir.file("gdb.log");
    child_process gdb(g);
    ASSERT_TRUE(gdb.wait_for_output("STOPPED", 60s)) << gdb.output();
    auto state_of_fib = [&] {
        json list = c.call("process.list");
        for (const auto& p : list["result"]["processes"])
            if (p["program"] == "/bin/fib")
                return p["state"].get<std::string>();
        return std::string("none");
    };
    ASSERT_EQ(state_of_fib(), "stopped");
    stream_view seen;
    ASSERT_TRUE(seen.read_until(c, [&] {
        return std::all_of(pids.begin(), pids.end(), [&](int64_t pid) {
            auto& by_probe = seen.processes[pid].a0_by_probe;
            return by_probe.count(step) && by_probe.at(step).size() >= 400;
        });
    })) << console_of(dir);
    EXPECT_EQ(state_of_fib(), "stopped");
    std::ofstream(flag) << "go\n";
    ASSERT_TRUE(gdb.wait_exit(60s).has_value()) << gdb.output();
    const std::string out = gdb.output();
    EXPECT_TRUE(has(out, "Breakpoint 1, fib (n=n@entry=5)")) << out;
    EXPECT_TRUE(has(out, "$1 = 5")) << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("\\[Inferior 1 \\(process \\d+\\) exited normally\\]")))
        << out;
    for (int64_t pid : pids) {
        EXPECT_FALSE(seen.processes[pid].exit) << pid;
        c.call("process.kill", {{"pid", pid}});
    }
}
