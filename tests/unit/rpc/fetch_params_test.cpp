// probe.add's `fetch` (stub/rpc/fetch_params.cpp): the syntax, every refusal naming its element,
// the list spelled back, and the items of a hit as probe.hit carries them.
#include "rpc/event_notifications.hpp"
#include "rpc/fetch_params.hpp"

#include <gtest/gtest.h>

namespace ruprobes::rpc {
namespace {

using jsonrpc::json;

std::vector<wire::fetch_entry> parsed(const char* text,
                                      target::probe_kind kind = target::probe_kind::entry) {
    auto r = parse_fetch(json::parse(text), kind);
    if (!r) {
        ADD_FAILURE() << text << ": " << r.error().data.dump();
        return {};
    }
    return *r;
}

// The error's data for a list that must be refused.
json refused(const char* text, target::probe_kind kind = target::probe_kind::entry) {
    auto r = parse_fetch(json::parse(text), kind);
    const jsonrpc::rpc_error* e = r ? nullptr : &r.error();
    if (!e) {
        ADD_FAILURE() << text << " was accepted";
        return json();
    }
    EXPECT_EQ(e->code, jsonrpc::invalid_params);
    EXPECT_EQ(e->data["param"], "fetch");
    return e->data;
}

TEST(fetch_params, registers_memory_and_strings) {
    auto e = parsed(R"(["a0", "x11", "fp", "pc", "zero", {"mem": "a1", "len": 16},
                       {"mem": "sp+16", "len": 8}, {"str": "a0 - 0x10", "max": 64}])");
    ASSERT_EQ(e.size(), 8u);
    EXPECT_EQ(e[0].op, wire::fetch_op::reg);
    EXPECT_EQ(e[0].reg, 10);
    EXPECT_EQ(e[1].reg, 11);
    EXPECT_EQ(e[2].reg, 8);
    EXPECT_EQ(e[3].reg, wire::fetch_reg_pc);
    EXPECT_EQ(e[4].reg, 0);
    EXPECT_EQ(e[5].op, wire::fetch_op::mem);
    EXPECT_EQ(e[5].len, 16);
    EXPECT_EQ(e[6].reg, 2);
    EXPECT_EQ(e[6].offset, 16);
    EXPECT_EQ(e[7].op, wire::fetch_op::str);
    EXPECT_EQ(e[7].offset, -16);
    EXPECT_EQ(e[7].len, 64);
    EXPECT_EQ(fetch_json(e), json::parse(R"(["a0","a1","s0","pc","zero",{"mem":"a1","len":16},
        {"mem":"sp+16","len":8},{"str":"a0-16","max":64}])"));
    EXPECT_EQ(parsed(R"(["ret"])", target::probe_kind::ret)[0].reg, wire::fetch_reg_ret);
}

TEST(fetch_params, refusals_name_the_element) {
    EXPECT_EQ(refused(R"(["a0", "a8"])")["index"], 1);
    EXPECT_EQ(refused(R"(["x32"])")["index"], 0);
    EXPECT_EQ(refused(R"(["x01"])")["index"], 0);
    EXPECT_NE(refused(R"(["ret"])")["reason"].get<std::string>().find("return probes"),
              std::string::npos);
    EXPECT_EQ(refused(R"([{"mem": "a1"}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"mem": "a1", "len": 0}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"mem": "a1", "len": 501}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"mem": "a1", "len": -1}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"str": "a1+q", "max": 4}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"str": "a1+0x80000000", "max": 4}])")["index"], 0);
    EXPECT_EQ(refused(R"([{"mem": "a1", "len": 4, "extra": 1}])")["index"], 0);
    EXPECT_EQ(refused(R"(["a0", 7])")["index"], 1);
    EXPECT_FALSE(refused(R"([])").contains("index"));
    EXPECT_FALSE(refused(R"("a0")").contains("index"));
    // More than 16 items; more than 512 bytes on the worst case (the element that crosses it).
    json many = json::array();
    for (int i = 0; i < 17; i++)
        many.push_back("a0");
    EXPECT_EQ(refused(many.dump().c_str())["index"], 16);
    json big = refused(R"([{"mem": "a0", "len": 300}, "a1", {"str": "a2", "max": 200}])");
    EXPECT_EQ(big["index"], 2);
    EXPECT_NE(big["reason"].get<std::string>().find("at most 512"), std::string::npos);
}

TEST(fetch_params, a_hit_carries_its_items_by_the_lists_names) {
    auto entries = parsed(R"(["a0", {"mem": "a1", "len": 3}, {"str": "a1+4", "max": 4},
                             {"mem": "zero", "len": 8}])");
    target::probe_hit_event hit;
    hit.probe = 5;
    hit.thread = {9, 9};
    hit.fetched = {
        {wire::fetch_op::reg, wire::fetch_status::ok, 0xa, {}},
        {wire::fetch_op::mem, wire::fetch_status::ok, 0x1000, {0x68, 0x00, 0xff}},
        {wire::fetch_op::str, wire::fetch_status::truncated, 0x1004, {'a', 'b', 'c', 'd'}},
        {wire::fetch_op::mem, wire::fetch_status::unreadable, 0, {}},
    };
    probe_site site;
    site.program = "/bin/x";
    site.fetch = entries;
    auto note =
        make_notification(target::target_event(hit), [&](target::probe_id) { return &site; });
    ASSERT_TRUE(note);
    json p = json::parse(note->text)["params"];
    EXPECT_EQ(p["fetch"], json::parse(R"([{"reg":"a0","value":"0xa"},
        {"mem":"a1","addr":"0x1000","hex":"6800ff"},
        {"str":"a1+4","addr":"0x1004","value":"abcd","truncated":true},
        {"mem":"zero","addr":"0x0","error":"unreadable"}])"));
    EXPECT_FALSE(p.contains("fetch_incomplete"));
    hit.fetch_complete = false;
    hit.fetched.resize(1);
    json cut = json::parse(make_notification(target::target_event(hit), [&](target::probe_id) {
                               return &site;
                           })->text)["params"];
    EXPECT_EQ(cut["fetch"].size(), 1u);
    EXPECT_EQ(cut["fetch_incomplete"], true);
}

} // namespace
} // namespace ruprobes::rpc
