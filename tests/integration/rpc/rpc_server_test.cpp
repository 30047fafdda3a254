// The JSON-RPC server end to end over TCP against the fake kernel: both framings, every
// standard error, size limit, probes with hits, process events, symbols, filters, a slow
// subscriber, a client vanishing mid-batch, and the Python stdlib client.
#include "rpc_test_client.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"
#include "symbols/program_symbols.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;
using framing = rpc_test_client::framing;

uint64_t hex(const json& v) {
    return std::stoull(v.get<std::string>(), nullptr, 16);
}

// The fake-kernel server in a child process, with the symbols fixture as /bin/fixture.
class rpc_server_test : public ::testing::Test {
protected:
    void start(std::vector<std::string> extra = {}) {
        std::filesystem::copy_file(RUPROBES_SYMBOLS_FIXTURE, dir.file("fixture"));
        spawn_options o;
        o.argv = {RUPROBES_FAKE_SERVER, "--symbols", dir.path(), "--elf-program", "fixture"};
        o.argv.insert(o.argv.end(), extra.begin(), extra.end());
        o.output_file = dir.file("server.log");
        server = std::make_unique<child_process>(o);
        auto listening = server->wait_for_match(std::regex("listening on (\\d+)\\n"), 10s);
        ASSERT_TRUE(listening) << server->output();
        port = static_cast<uint16_t>(std::stoi(*listening));
    }
    void TearDown() override {
        if (server) {
            EXPECT_TRUE(server->running()) << "the server died: " << server->output();
            server->stop();
        }
    }
    static json request(int id, const std::string& method, json params = json::object()) {
        return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    }

    temp_dir dir;
    std::unique_ptr<child_process> server;
    uint16_t port = 0;
};

void expect_error(const json& response, int code) {
    ASSERT_TRUE(response.contains("error")) << response.dump();
    EXPECT_EQ(response["error"]["code"], code) << response.dump();
    EXPECT_FALSE(response.contains("result"));
}

TEST_F(rpc_server_test, line_framing_status_and_every_standard_error) {
    start();
    rpc_test_client c(port, framing::line);
    json status = c.call("target.status");
    EXPECT_EQ(status["result"]["connected"], true);
    EXPECT_EQ(status["result"]["kernel_version"], "ruprobes-fake 0.1");

    c.raw("{\"jsonrpc\":\"2.0\",\"method\":\n");
    auto parse = c.receive();
    ASSERT_TRUE(parse);
    expect_error(*parse, -32700);
    EXPECT_TRUE((*parse)["id"].is_null());

    c.send(R"({"jsonrpc":"2.0","method":1,"id":5})");
    auto invalid = c.receive();
    ASSERT_TRUE(invalid);
    expect_error(*invalid, -32600);
    EXPECT_EQ((*invalid)["id"], 5);

    expect_error(c.call("no.such.method"), -32601);
    json bad = c.call("probe.add", {{"program", 7}});
    expect_error(bad, -32602);
    EXPECT_EQ(bad["error"]["data"]["param"], "program");
    expect_error(c.call("process.kill", {{"pid", "x"}}), -32602);
    expect_error(c.call("process.spawn", {{"argv", json::array()}}), -32602);
}

TEST_F(rpc_server_test, content_length_framing_batches_and_notifications) {
    start();
    rpc_test_client c(port, framing::content_length);
    // A notification gets no answer: the next message is the response to the request after it.
    c.send(R"({"jsonrpc":"2.0","method":"target.status"})");
    c.send(request(1, "probe.list").dump());
    auto first = c.receive();
    ASSERT_TRUE(first);
    EXPECT_EQ((*first)["id"], 1);
    EXPECT_TRUE((*first)["result"]["probes"].is_array());

    json batch = json::array({request(2, "target.status"), request(3, "nope"),
                              json{{"jsonrpc", "2.0"}, {"method", "target.status"}}, 42});
    c.send(batch.dump());
    auto answer = c.receive();
    ASSERT_TRUE(answer);
    ASSERT_TRUE(answer->is_array()) << answer->dump();
    ASSERT_EQ(answer->size(), 3u);
    std::map<std::string, json> by_id;
    for (const json& r : *answer)
        by_id[r["id"].dump()] = r;
    EXPECT_EQ(by_id["2"]["result"]["connected"], true);
    expect_error(by_id["3"], -32601);
    expect_error(by_id["null"], -32600);
}

TEST_F(rpc_server_test, oversized_message_is_refused_and_the_connection_survives) {
    start({"--max-message", "4096"});
    for (framing f : {framing::line, framing::content_length}) {
        rpc_test_client c(port, f);
        json big = request(1, "target.status", {{"pad", std::string(100000, 'x')}});
        c.send(big.dump());
        auto r = c.receive();
        ASSERT_TRUE(r);
        expect_error(*r, -32600);
        EXPECT_EQ((*r)["error"]["data"]["limit"], 4096);
        EXPECT_GT((*r)["error"]["data"]["size"].get<uint64_t>(), 4096u);
        EXPECT_EQ(c.call("target.status")["result"]["connected"], true);
    }
}

TEST_F(rpc_server_test, unreadable_header_block_is_answered_then_closed) {
    start();
    rpc_test_client c(port, framing::content_length);
    c.raw("Content-Length: twelve\r\n\r\n{}");
    auto r = c.receive();
    ASSERT_TRUE(r);
    expect_error(*r, -32700);
    EXPECT_TRUE(c.wait_closed(5s));
    rpc_test_client again(port);
    EXPECT_EQ(again.call("target.status")["result"]["connected"], true);
}

TEST_F(rpc_server_test, trace_probe_streams_hits_with_every_sequence_number) {
    start();
    rpc_test_client c(port);
    json sub = c.call("events.subscribe", json::object());
    ASSERT_TRUE(sub["result"]["subscription"].is_number()) << sub.dump();
    json proc = c.call("process.spawn", {{"argv", {"/bin/loop"}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    int64_t pid = proc["result"]["pid"];
    json probe = c.call("probe.add", {{"program", "/bin/loop"}, {"address", "0x10006"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    EXPECT_EQ(probe["result"]["address"], "0x10006");
    EXPECT_EQ(probe["result"]["kind"], "insn");
    EXPECT_TRUE(probe["result"]["symbol"].is_null()); // the fake's loop has no host copy
    uint64_t id = probe["result"]["id"];

    std::optional<uint64_t> last_seq;
    for (int n = 0; n < 500; n++) {
        auto hit = c.wait_notification("probe.hit", 10s);
        ASSERT_TRUE(hit) << "hit " << n;
        const json& p = (*hit)["params"];
        EXPECT_EQ(p["probe"], id);
        EXPECT_EQ(p["pid"], pid);
        EXPECT_EQ(p["pc"], "0x10006");
        EXPECT_EQ(p["kind"], "insn");
        ASSERT_EQ(p["args"].size(), 8u);
        EXPECT_TRUE(p["args"][0].get<std::string>().starts_with("0x"));
        EXPECT_TRUE(p["sp"].is_string());
        uint64_t seq = p["seq"];
        if (last_seq) {
            ASSERT_EQ(seq, *last_seq + 1) << "a hit went missing";
        }
        last_seq = seq;
    }
    EXPECT_FALSE(c.wait_notification("events.lost", 1ms));

    json list = c.call("probe.list");
    ASSERT_EQ(list["result"]["probes"].size(), 1u);
    EXPECT_GE(list["result"]["probes"][0]["hits"].get<uint64_t>(), 500u);
    json removed = c.call("probe.remove", {{"id", id}});
    EXPECT_EQ(removed["result"]["id"], id);
    expect_error(c.call("probe.remove", {{"id", id}}), -32002);
    expect_error(c.call("probe.remove", {{"id", 9999}}), -32002);
    EXPECT_TRUE(c.call("probe.list")["result"]["probes"].empty());
    EXPECT_TRUE(c.call("process.kill", {{"pid", pid}}).contains("result"));
    expect_error(c.call("process.kill", {{"pid", 4242}}), -32001);
}

TEST_F(rpc_server_test, process_exec_and_exit_notifications_and_kind_filter) {
    start();
    rpc_test_client c(port);
    c.call("events.subscribe", {{"kinds", {"process.exec", "process.exit"}}});
    json proc = c.call("process.spawn", {{"argv", {"/bin/count"}}});
    int64_t pid = proc["result"]["pid"];
    auto exec = c.wait_notification("process.exec", 10s);
    ASSERT_TRUE(exec);
    EXPECT_EQ((*exec)["params"]["pid"], pid);
    EXPECT_EQ((*exec)["params"]["program"], "/bin/count");
    auto exit = c.wait_notification("process.exit", 10s);
    ASSERT_TRUE(exit);
    EXPECT_EQ((*exit)["params"]["pid"], pid);
    EXPECT_EQ((*exit)["params"]["status"], 3);
    EXPECT_EQ((*exit)["params"]["signaled"], false);
    expect_error(c.call("events.subscribe", {{"kinds", {"probe.hits"}}}), -32602);
    expect_error(c.call("events.unsubscribe", {{"subscription", 777}}), -32020);
}

TEST_F(rpc_server_test, pid_and_probe_filters) {
    start();
    rpc_test_client c(port);
    json a = c.call("process.spawn", {{"argv", {"/bin/loop"}}});
    json b = c.call("process.spawn", {{"argv", {"/bin/loop"}}});
    int64_t pid_b = b["result"]["pid"];
    json probe = c.call("probe.add", {{"program", "/bin/loop"}, {"address", 0x10004}});
    json other = c.call("probe.add", {{"program", "/bin/loop"}, {"address", 0x10006}});
    uint64_t id = probe["result"]["id"];
    json sub =
        c.call("events.subscribe", {{"pids", {pid_b}}, {"probes", {id}}, {"kinds", {"probe.hit"}}});
    for (int n = 0; n < 200; n++) {
        auto hit = c.wait_notification("probe.hit", 10s);
        ASSERT_TRUE(hit);
        EXPECT_EQ((*hit)["params"]["pid"], pid_b);
        EXPECT_EQ((*hit)["params"]["probe"], id);
    }
    json unsub = c.call("events.unsubscribe", {{"subscription", sub["result"]["subscription"]}});
    EXPECT_TRUE(unsub.contains("result"));
    (void)a;
    (void)other;
}

TEST_F(rpc_server_test, probes_by_symbol_and_line_through_the_host_copy) {
    start();
    auto loaded = symbols::program_symbols::load(RUPROBES_SYMBOLS_FIXTURE);
    auto syms = *loaded;
    uint64_t add_one = syms->find_function("add_one")->address;

    rpc_test_client c(port);
    json by_symbol = c.call("probe.add", {{"program", "/bin/fixture"}, {"symbol", "add_one"}});
    ASSERT_TRUE(by_symbol.contains("result")) << by_symbol.dump();
    const json& r = by_symbol["result"];
    EXPECT_EQ(hex(r["address"]), add_one);
    EXPECT_EQ(r["symbol"], "add_one");
    EXPECT_EQ(r["offset"], 0);
    EXPECT_EQ(r["kind"], "entry");
    EXPECT_EQ(r["insn_class"], "simulate");

    json ret =
        c.call("probe.add", {{"program", "/bin/fixture"}, {"symbol", "twice"}, {"kind", "return"}});
    ASSERT_TRUE(ret.contains("result")) << ret.dump();
    EXPECT_EQ(ret["result"]["kind"], "return");

    json by_line =
        c.call("probe.add", {{"program", "/bin/fixture"}, {"line", "symbols_fixture.c:6"}});
    ASSERT_TRUE(by_line.contains("result")) << by_line.dump();
    EXPECT_EQ(by_line["result"]["symbol"], "add_one");
    EXPECT_GT(by_line["result"]["offset"].get<uint64_t>(), 0u);
    EXPECT_EQ(by_line["result"]["line"], "symbols_fixture.c:6");
    // "file:line" in `symbol` works too.
    json colon =
        c.call("probe.add", {{"program", "/bin/fixture"}, {"symbol", "symbols_fixture.c:15"}});
    EXPECT_EQ(colon["result"]["symbol"], "main");

    json list = c.call("probe.list");
    EXPECT_EQ(list["result"]["probes"].size(), 4u);

    expect_error(c.call("probe.add", {{"program", "/bin/fixture"}, {"symbol", "nope"}}), -32011);
    expect_error(c.call("probe.add", {{"program", "/bin/nothere"}, {"symbol", "main"}}), -32010);
    expect_error(
        c.call("probe.add", {{"program", "/bin/fixture"}, {"line", "symbols_fixture.c:9999"}}),
        -32012);
    expect_error(c.call("probe.add", {{"program", "/bin/fixture"}, {"line", "other.c:3"}}), -32012);
    expect_error(c.call("probe.add",
                        {{"program", "/bin/fixture"}, {"address", add_one + 2}, {"kind", "entry"}}),
                 -32602);
    expect_error(c.call("probe.add", {{"program", "/bin/fixture"}, {"address", add_one + 1}}),
                 -32003);
    expect_error(c.call("probe.add", {{"program", "/bin/fixture"}}), -32602);
    expect_error(
        c.call("probe.add", {{"program", "/bin/fixture"}, {"symbol", "main"}, {"address", 1}}),
        -32602);

    // The ecall line of the fixture: refused with the engine's reason.
    std::ifstream src(std::string(source_dir) + "/tests/unit/symbols/symbols_fixture.c");
    std::string text;
    int line = 0, ecall_line = 0;
    while (std::getline(src, text)) {
        line++;
        if (text.find("volatile(\"ecall\")") != std::string::npos)
            ecall_line = line;
    }
    ASSERT_GT(ecall_line, 0);
    json ecall = c.call("probe.add", {{"program", "/bin/fixture"},
                                      {"line", "symbols_fixture.c:" + std::to_string(ecall_line)}});
    expect_error(ecall, -32003);
    EXPECT_EQ(ecall["error"]["data"]["reason"], "insn_ecall");
}

TEST_F(rpc_server_test, slow_subscriber_gets_loss_notices_and_does_not_slow_others) {
    // A fixed send buffer (64 KiB: no autotuning up to megabytes) keeps what the sockets hold
    // for the stalled client small next to its queue.
    start({"--event-queue", "8192", "--send-buffer", "65536"});
    // The stalled client: tiny receive buffer, reads nothing while the others stream.
    rpc_test_client stalled(port, framing::line, 4096);
    stalled.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    rpc_test_client reader(port);
    reader.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    rpc_test_client control(port);
    control.call("process.spawn", {{"argv", {"/bin/loop"}}});

    // Events come in chunks (the probe is added, the reader takes 500 hits, the probe is
    // removed, the reader drains), so a reader that keeps reading never falls a queue behind,
    // however busy the machine is; the stalled one falls the whole stream behind.
    std::optional<uint64_t> last_seq;
    uint64_t received = 0;
    auto take = [&](std::chrono::milliseconds timeout) {
        auto msg = reader.receive(timeout);
        if (!msg)
            return false;
        if ((*msg)["method"] != "probe.hit") {
            ADD_FAILURE() << "the reader lost events: " << msg->dump();
            return false;
        }
        uint64_t seq = (*msg)["params"]["seq"];
        if (last_seq) {
            EXPECT_EQ(seq, *last_seq + 1) << "the reader lost events";
        }
        last_seq = seq;
        received++;
        return true;
    };
    for (int chunk = 0; chunk < 40 && !HasFailure(); chunk++) {
        json probe = control.call("probe.add", {{"program", "/bin/loop"}, {"address", "0x10006"}});
        ASSERT_TRUE(probe.contains("result")) << probe.dump();
        for (int n = 0; n < 500; n++)
            ASSERT_TRUE(take(10s)) << "reader starved after " << received << " hits";
        control.call("probe.remove", {{"id", probe["result"]["id"]}});
        while (take(100ms)) {
        }
    }
    EXPECT_GE(received, 20000u);
    // The daemon still answers everyone.
    EXPECT_EQ(control.call("target.status")["result"]["connected"], true);

    // Now the stalled client reads: a bounded backlog, then a loss notice at each gap, and
    // every missing sequence number is announced.
    uint64_t seen = 0, lost = 0;
    std::optional<uint64_t> prev;
    bool gap_explained = true;
    uint64_t pending_lost = 0;
    while (seen + lost < received) {
        auto msg = stalled.receive(10s);
        ASSERT_TRUE(msg) << "seen " << seen << " lost " << lost << " of " << received;
        if ((*msg)["method"] == "events.lost") {
            EXPECT_EQ((*msg)["params"]["reason"], "subscriber_queue_full");
            uint64_t count = (*msg)["params"]["count"];
            EXPECT_GT(count, 0u);
            lost += count;
            pending_lost += count;
            continue;
        }
        uint64_t seq = (*msg)["params"]["seq"];
        if (prev && seq != *prev + 1)
            gap_explained = gap_explained && (seq - *prev - 1 == pending_lost);
        pending_lost = 0;
        prev = seq;
        seen++;
    }
    EXPECT_EQ(seen + lost, received);
    EXPECT_GT(lost, 0u) << "the stalled subscriber should have lost events";
    // Its queue plus what the sockets buffer (64 KiB send buffer, 4 KiB receive buffer).
    EXPECT_LE(seen, 8192u + 1000u) << "the stalled subscriber's backlog must stay bounded";
    EXPECT_TRUE(gap_explained) << "a gap in the stalled subscriber's stream was not announced";
}

TEST_F(rpc_server_test, target_disconnect_and_reconnect_are_notified) {
    start();
    rpc_test_client c(port);
    json probe = c.call("probe.add", {{"program", "/bin/loop"}, {"address", "0x10006"}});
    uint64_t id = probe["result"]["id"];
    c.call("events.subscribe", {{"kinds", {"target.connected", "target.disconnected"}}});
    server->signal(SIGUSR1);
    auto gone = c.wait_notification("target.disconnected", 10s);
    ASSERT_TRUE(gone);
    EXPECT_EQ((*gone)["params"]["reason"], "test: SIGUSR1");
    EXPECT_EQ(c.call("target.status")["result"]["connected"], false);
    expect_error(c.call("process.spawn", {{"argv", {"/bin/loop"}}}), -32000);
    expect_error(c.call("probe.add", {{"program", "/bin/loop"}, {"address", "0x10006"}}), -32000);
    server->signal(SIGUSR2);
    auto back = c.wait_notification("target.connected", 10s);
    ASSERT_TRUE(back);
    EXPECT_EQ((*back)["params"]["boot_id"], "fake-boot-2");
    // The trace probe is armed again in the new kernel (by the target model), under the same id.
    json list = c.call("probe.list");
    ASSERT_EQ(list["result"]["probes"].size(), 1u);
    EXPECT_EQ(list["result"]["probes"][0]["id"], id);
    c.call("events.subscribe", {{"probes", {id}}, {"kinds", {"probe.hit"}}});
    json proc = c.call("process.spawn", {{"argv", {"/bin/loop"}}});
    ASSERT_TRUE(proc.contains("result")) << proc.dump();
    auto hit = c.wait_notification("probe.hit", 10s);
    ASSERT_TRUE(hit) << "no hit after the reconnect";
    EXPECT_EQ((*hit)["params"]["probe"], id);
    EXPECT_EQ((*hit)["params"]["pid"], proc["result"]["pid"]);
}

TEST_F(rpc_server_test, client_vanishing_mid_batch_leaves_the_daemon_serving) {
    start();
    for (int i = 0; i < 20; i++) {
        rpc_test_client c(port);
        json batch = json::array();
        for (int k = 0; k < 50; k++)
            batch.push_back(request(k, k % 2 ? "process.list" : "target.status"));
        std::string text = batch.dump();
        c.raw(text.substr(0, text.size() / 2)); // half a batch, then gone
    }
    for (int i = 0; i < 20; i++) {
        rpc_test_client c(port);
        json batch = json::array();
        for (int k = 0; k < 50; k++)
            batch.push_back(request(k, "process.list"));
        c.send(batch.dump()); // a whole batch, then gone before the answer
    }
    rpc_test_client c(port);
    EXPECT_EQ(c.call("target.status")["result"]["connected"], true);
}

TEST_F(rpc_server_test, python_stdlib_client) {
    start();
    spawn_options o;
    o.argv = {"python3", RUPROBES_RPC_CLIENT_PY, "--port", std::to_string(port), "selftest"};
    o.output_file = dir.file("client.log");
    child_process client(o);
    auto status = client.wait_exit(60s);
    ASSERT_TRUE(status) << client.output();
    EXPECT_EQ(*status, 0) << client.output();
    EXPECT_NE(client.output().find("selftest: ok"), std::string::npos) << client.output();
}

} // namespace
} // namespace ruprobes::test
