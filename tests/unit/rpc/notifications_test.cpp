// probe_catalog (probe.add resolution through a host copy) and the notification texts: exact
// field names and types, 64-bit values as hex strings, loss notices.
#include "rpc/event_notifications.hpp"
#include "rpc/probe_catalog.hpp"
#include "rpc/rpc_errors.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ruprobes::rpc {
namespace {

using jsonrpc::json;

TEST(notifications, probe_hit_carries_hex_registers_and_the_probe_site) {
    target::probe_hit_event hit;
    hit.probe = 7;
    hit.thread = {42, 43};
    hit.pc = 0xffffffff80001234ull; // above 2^53: must survive as a string
    hit.timestamp_ns = 123456789;
    hit.seq = 99;
    target::registers regs;
    for (int i = 0; i < 8; i++)
        regs.x[10 + i] = 0x1000 + i;
    regs.x[2] = 0x7fff0;
    regs.x[1] = 0x10086;
    hit.regs = regs;
    hit.return_value = 0x8000000000000001ull;
    probe_site site;
    site.program = "/bin/fib";
    site.address = 0x10078;
    site.symbol = "fib";
    site.offset = 4;
    site.kind = target::probe_kind::ret;
    auto note = make_notification(target::target_event(hit),
                                  [&](target::probe_id id) { return id == 7 ? &site : nullptr; });
    ASSERT_TRUE(note);
    EXPECT_EQ(note->kind, events::event_kind::probe_hit);
    EXPECT_EQ(note->probe, 7u);
    EXPECT_EQ(note->pid, 42);
    json j = json::parse(note->text);
    EXPECT_EQ(j["jsonrpc"], "2.0");
    EXPECT_EQ(j["method"], "probe.hit");
    EXPECT_FALSE(j.contains("id"));
    const json& p = j["params"];
    EXPECT_EQ(p["seq"], 99);
    EXPECT_EQ(p["time_ns"], 123456789);
    EXPECT_EQ(p["probe"], 7);
    EXPECT_EQ(p["pid"], 42);
    EXPECT_EQ(p["tid"], 43);
    EXPECT_EQ(p["pc"], "0xffffffff80001234");
    EXPECT_EQ(p["symbol"], "fib");
    EXPECT_EQ(p["offset"], 4);
    EXPECT_EQ(p["kind"], "return");
    ASSERT_EQ(p["args"].size(), 8u);
    EXPECT_EQ(p["args"][0], "0x1000");
    EXPECT_EQ(p["args"][7], "0x1007");
    EXPECT_EQ(p["sp"], "0x7fff0");
    EXPECT_EQ(p["ra"], "0x10086");
    EXPECT_EQ(p["ret"], "0x8000000000000001");
}

TEST(notifications, hit_of_an_unknown_probe_without_registers) {
    target::probe_hit_event hit;
    hit.probe = 1;
    auto note = make_notification(target::target_event(hit), nullptr);
    ASSERT_TRUE(note);
    json p = json::parse(note->text)["params"];
    EXPECT_TRUE(p["symbol"].is_null());
    EXPECT_TRUE(p["kind"].is_null());
    EXPECT_FALSE(p.contains("args"));
    EXPECT_FALSE(p.contains("ret"));
}

TEST(notifications, process_target_and_loss_events) {
    auto exit = make_notification(target::target_event(target::exit_event{5, true, 9}), nullptr);
    ASSERT_TRUE(exit);
    EXPECT_EQ(exit->kind, events::event_kind::process_exit);
    EXPECT_EQ(json::parse(exit->text)["params"],
              (json{{"pid", 5}, {"status", 9}, {"signaled", true}}));
    auto exec = make_notification(target::target_event(target::exec_event{5, "/bin/x"}), nullptr);
    EXPECT_EQ(json::parse(exec->text)["method"], "process.exec");
    auto lost = make_notification(target::target_event(target::events_lost_event{12}), nullptr);
    EXPECT_EQ(lost->kind, events::event_kind::events_lost);
    EXPECT_EQ(json::parse(lost->text)["params"],
              (json{{"count", 12}, {"reason", "kernel_ring_full"}}));
    auto gap = make_notification(
        target::target_event(target::events_lost_event{.count = 3, .transport = true}), nullptr);
    EXPECT_EQ(gap->kind, events::event_kind::events_lost);
    EXPECT_EQ(json::parse(gap->text)["params"], (json{{"count", 3}, {"reason", "transport_loss"}}));
    auto down =
        make_notification(target::target_event(target::disconnected_event{"qemu exited"}), nullptr);
    EXPECT_EQ(json::parse(down->text)["method"], "target.disconnected");
    auto stop = make_notification(target::target_event(target::stop_event{}), nullptr);
    EXPECT_FALSE(stop); // stops are the debugger's
    EXPECT_EQ(json::parse(lost_notification(3, "subscriber_queue_full"))["params"]["count"], 3);
}

TEST(notifications, direct_probe_hit_text_is_byte_for_byte_the_json_one) {
    // Every shape of hit: with and without registers, return value, site and symbol, extreme
    // values, and symbols that need escaping (those take the json path).
    std::vector<std::optional<std::string>> symbols = {std::nullopt, "fib",       "_Z3fooi.cold",
                                                       "we\"ird",    "tab\there", "caf\xc3\xa9"};
    uint64_t values[] = {0, 1, 0x7fffffffffffffffull, 0xffffffffffffffffull, 1234567};
    int cases = 0;
    for (bool with_regs : {false, true}) {
        for (bool with_ret : {false, true}) {
            for (int s = -1; s < static_cast<int>(symbols.size()); s++) {
                for (uint64_t v : values) {
                    target::probe_hit_event hit;
                    hit.probe = v % 1000;
                    hit.thread = {static_cast<int64_t>(v % 77), -static_cast<int64_t>(v % 5)};
                    hit.pc = v;
                    hit.timestamp_ns = v >> 1;
                    hit.seq = v >> 3;
                    if (with_regs) {
                        target::registers regs;
                        for (int i = 0; i < 32; i++)
                            regs.x[i] = v * (i + 1);
                        hit.regs = regs;
                    }
                    if (with_ret)
                        hit.return_value = ~v;
                    probe_site site;
                    site.kind = static_cast<target::probe_kind>(v % 3);
                    site.offset = v % 4096;
                    if (s >= 0)
                        site.symbol = symbols[static_cast<std::size_t>(s)];
                    const probe_site* at = s < 0 ? nullptr : &site;
                    EXPECT_EQ(probe_hit_text(hit, at, true), probe_hit_text(hit, at, false));
                    cases++;
                }
            }
        }
    }
    EXPECT_EQ(cases, 2 * 2 * 7 * 5);
}

TEST(probe_catalog, resolves_through_the_host_copy) {
    std::string fixture = RUPROBES_SYMBOLS_FIXTURE;
    symbols::symbol_store store(std::filesystem::path(fixture).parent_path().string());
    probe_catalog catalog(store);
    probe_request req;
    req.program = "/bin/symbols_fixture";
    req.symbol = "add_one";
    auto r = catalog.resolve(req);
    ASSERT_TRUE(r.has_value());
    const probe_site& site = *r;
    EXPECT_EQ(site.symbol, "add_one");
    EXPECT_EQ(site.offset, 0u);
    EXPECT_EQ(site.kind, target::probe_kind::entry);
    EXPECT_EQ(site.insn_class, "simulate");
    json j = probe_catalog::to_json(3, site, 77);
    EXPECT_EQ(j["id"], 3);
    EXPECT_EQ(j["pid"], 77);
    EXPECT_TRUE(j["address"].get<std::string>().starts_with("0x"));

    // No host copy: an address passes unchecked, a symbol does not.
    probe_request bare;
    bare.program = "/bin/unknown";
    bare.address = 0x1234;
    auto b = catalog.resolve(bare);
    ASSERT_TRUE(b.has_value());
    EXPECT_FALSE(b->symbol);
    EXPECT_FALSE(b->insn_class);
    bare.address.reset();
    bare.symbol = "main";
    auto e = catalog.resolve(bare);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, unknown_program);

    // A guest path is required.
    probe_request relative = req;
    relative.program = "symbols_fixture";
    auto rel = catalog.resolve(relative);
    ASSERT_FALSE(rel.has_value());
    EXPECT_EQ(rel.error().code, jsonrpc::invalid_params);
}

} // namespace
} // namespace ruprobes::rpc
