// probe.add's `fetch` end to end: ruprobesd with the reference kernel in QEMU, a JSON-RPC client
// adds fetching probes and checks every fetched item against what the programs do: fib's
// argument at each of its 177 calls for `/bin/fib 10`, the string /bin/hello writes, the bytes
// at the write buffer, a string cut at its maximum, and a read at address 0 that is reported as
// unreadable while the program runs on.
#include "rpc_daemon_fixture.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

class rpc_e2e_fetch : public rpc_daemon_fixture {
protected:
    // Spawns `argv` and collects the probe.hit params of its process up to its process.exit.
    std::vector<json> run_and_collect(rpc_test_client& c, const std::vector<std::string>& argv,
                                      int& lost) {
        std::vector<json> hits;
        json proc = c.call("process.spawn", {{"argv", argv}});
        EXPECT_TRUE(proc.contains("result")) << proc.dump();
        if (!proc.contains("result"))
            return hits;
        int64_t pid = proc["result"]["pid"];
        for (;;) {
            std::optional<json> msg = next_message(c, 30s);
            if (!msg) {
                ADD_FAILURE() << "no process.exit\n" << daemon->output();
                return hits;
            }
            const json& p = (*msg)["params"];
            if ((*msg)["method"] == "events.lost")
                lost++;
            if ((*msg)["method"] == "probe.hit" && p["pid"] == pid)
                hits.push_back(p);
            if ((*msg)["method"] == "process.exit" && p["pid"] == pid)
                return hits;
        }
    }
};

uint64_t number(const json& hex) {
    return std::stoull(hex.get<std::string>(), nullptr, 0);
}

// fib(10) calls fib(k) F(11 - k) times for k >= 1 and fib(0) F(9) times: 177 calls, each hit
// carrying its own n as the fetched a0, pc the probe's address, and sp's first doubleword.
TEST_F(rpc_e2e_fetch, fib_10_fetches_each_calls_argument) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "process.exit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"},
                                      {"symbol", "fib"},
                                      {"fetch", {"a0", "pc", "x2", {{"mem", "sp"}, {"len", 8}}}}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    EXPECT_EQ(probe["result"]["fetch"], json::parse(R"(["a0","pc","sp",{"mem":"sp","len":8}])"));
    json returns = c.call(
        "probe.add",
        {{"program", "/bin/fib"}, {"symbol", "fib"}, {"kind", "return"}, {"fetch", {"ret", "a0"}}});
    ASSERT_TRUE(returns.contains("result")) << returns.dump();
    uint64_t id = probe["result"]["id"], ret_id = returns["result"]["id"];
    uint64_t address = number(probe["result"]["address"]);

    int lost = 0;
    std::vector<json> hits = run_and_collect(c, {"/bin/fib", "10"}, lost);
    EXPECT_EQ(lost, 0);
    std::map<uint64_t, int> by_n;
    int returned = 0;
    for (const json& h : hits) {
        ASSERT_TRUE(h.contains("fetch")) << h.dump();
        const json& f = h["fetch"];
        if (h["probe"] == ret_id) {
            ASSERT_EQ(f.size(), 2u) << h.dump();
            EXPECT_EQ(f[0]["reg"], "ret");
            EXPECT_EQ(f[0]["value"], h["ret"]) << h.dump();
            EXPECT_EQ(f[1]["value"], h["ret"]) << h.dump();
            returned++;
            continue;
        }
        ASSERT_EQ(h["probe"], id) << h.dump();
        ASSERT_EQ(f.size(), 4u) << h.dump();
        EXPECT_EQ(f[0], (json{{"reg", "a0"}, {"value", h["args"][0]}})) << h.dump();
        EXPECT_EQ(number(f[1]["value"]), address) << h.dump();
        EXPECT_EQ(f[2]["value"], h["sp"]) << h.dump();
        EXPECT_EQ(f[3]["mem"], "sp");
        EXPECT_EQ(f[3]["addr"], h["sp"]);
        EXPECT_EQ(f[3]["hex"].get<std::string>().size(), 16u) << h.dump();
        by_n[number(f[0]["value"])]++;
    }
    EXPECT_EQ(returned, 177);
    std::map<uint64_t, int> expected{{0, 34}, {1, 55}, {2, 34}, {3, 21}, {4, 13}, {5, 8},
                                     {6, 5},  {7, 3},  {8, 2},  {9, 1},  {10, 1}};
    EXPECT_EQ(by_n, expected);
    // Each hit spends its record and one continuation record of the sequence.
    json removed = c.call("probe.remove", {{"id", id}});
    EXPECT_EQ(removed["result"]["hits"], 177) << removed.dump();
}

// /bin/hello: puts(s) writes s, then "\n". At write's entry: fd and length as registers, the
// buffer as bytes and as a string, a string cut at its maximum, and a read of address 0.
TEST_F(rpc_e2e_fetch, hello_write_strings_bytes_and_an_unreadable_address) {
    rpc_test_client c(port);
    ASSERT_FALSE(wait_connected(c).empty()) << daemon->output();
    c.call("events.subscribe", {{"kinds", {"probe.hit", "process.exit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/hello"},
                                      {"symbol", "write"},
                                      {"fetch",
                                       {"a0",
                                        "a2",
                                        {{"mem", "a1"}, {"len", 5}},
                                        {{"str", "a1"}, {"max", 64}},
                                        {{"str", "a1+6"}, {"max", 4}},
                                        {{"mem", "zero"}, {"len", 8}},
                                        {{"str", "zero+16"}, {"max", 8}}}}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    // Errors name the offending element; nothing is armed for them.
    json bad_reg = c.call(
        "probe.add", {{"program", "/bin/hello"}, {"symbol", "write"}, {"fetch", {"a0", "a9"}}});
    ASSERT_TRUE(bad_reg.contains("error")) << bad_reg.dump();
    EXPECT_EQ(bad_reg["error"]["code"], -32602);
    EXPECT_EQ(bad_reg["error"]["data"]["index"], 1);
    json too_much = c.call(
        "probe.add", {{"program", "/bin/hello"},
                      {"symbol", "write"},
                      {"fetch", {{{"mem", "a1"}, {"len", 300}}, {{"str", "a0"}, {"max", 300}}}}});
    ASSERT_TRUE(too_much.contains("error")) << too_much.dump();
    EXPECT_EQ(too_much["error"]["data"]["index"], 1);
    EXPECT_NE(too_much["error"]["data"]["reason"].get<std::string>().find("at most 512"),
              std::string::npos)
        << too_much.dump();

    int lost = 0;
    std::vector<json> hits = run_and_collect(c, {"/bin/hello"}, lost);
    EXPECT_EQ(lost, 0);
    ASSERT_EQ(hits.size(), 2u) << daemon->output();
    const json& text = hits[0]["fetch"];
    ASSERT_EQ(text.size(), 7u) << hits[0].dump();
    EXPECT_EQ(text[0]["value"], "0x1");
    EXPECT_EQ(text[1]["value"], "0x15"); // 21 bytes
    EXPECT_EQ(text[2]["hex"], "68656c6c6f");
    EXPECT_EQ(text[2]["addr"], hits[0]["args"][1]);
    EXPECT_EQ(text[3]["value"], "hello from user space");
    EXPECT_FALSE(text[3].contains("truncated"));
    EXPECT_EQ(text[4]["str"], "a1+6");
    EXPECT_EQ(text[4]["value"], "from");
    EXPECT_EQ(text[4]["truncated"], true);
    EXPECT_EQ(text[5], (json{{"mem", "zero"}, {"addr", "0x0"}, {"error", "unreadable"}}));
    EXPECT_EQ(text[6], (json{{"str", "zero+16"}, {"addr", "0x10"}, {"error", "unreadable"}}));
    const json& newline = hits[1]["fetch"];
    ASSERT_EQ(newline.size(), 7u) << hits[1].dump();
    EXPECT_EQ(newline[1]["value"], "0x1");
    EXPECT_EQ(newline[3]["value"], "\n");
    EXPECT_EQ(newline[5]["error"], "unreadable");
    EXPECT_FALSE(hits[0].contains("fetch_incomplete"));
}

} // namespace
} // namespace ruprobes::test
