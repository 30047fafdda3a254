// parse_incoming / validate_request / builders / param_reader (JSON-RPC 2.0 §4, §5).
#include "ruprobes/jsonrpc/message.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <gtest/gtest.h>

namespace ruprobes::jsonrpc {
namespace {

TEST(message, request_with_params_and_id) {
    incoming in =
        parse_incoming(R"({"jsonrpc":"2.0","method":"probe.add","params":{"a":1},"id":7})");
    ASSERT_FALSE(in.parse_failed);
    EXPECT_FALSE(in.batch);
    ASSERT_EQ(in.items.size(), 1u);
    ASSERT_TRUE(in.items[0].valid);
    EXPECT_EQ(in.items[0].req.method, "probe.add");
    EXPECT_EQ(in.items[0].req.params["a"], 1);
    EXPECT_EQ(in.items[0].req.id, 7);
    EXPECT_FALSE(in.items[0].req.is_notification);
}

TEST(message, notification_has_no_id) {
    incoming in = parse_incoming(R"({"jsonrpc":"2.0","method":"x"})");
    ASSERT_TRUE(in.items[0].valid);
    EXPECT_TRUE(in.items[0].req.is_notification);
    EXPECT_TRUE(in.items[0].req.params.is_null());
}

TEST(message, null_and_string_ids_are_requests) {
    incoming a = parse_incoming(R"({"jsonrpc":"2.0","method":"x","id":null})");
    EXPECT_FALSE(a.items[0].req.is_notification);
    incoming b = parse_incoming(R"({"jsonrpc":"2.0","method":"x","id":"abc"})");
    EXPECT_EQ(b.items[0].req.id, "abc");
}

TEST(message, not_json_is_parse_error) {
    for (const char* text : {"{", "{\"jsonrpc\":\"2.0\",\"method\":\"foobar,\"params\":\"bar\"", "",
                             "nul", "\xff\xfe"}) {
        incoming in = parse_incoming(text);
        EXPECT_TRUE(in.parse_failed) << text;
        EXPECT_EQ(in.parse_err.code, parse_error);
    }
}

TEST(message, invalid_requests) {
    struct {
        const char* text;
        json id;
    } cases[] = {
        {R"({"jsonrpc":"2.0","method":1,"params":"bar"})", nullptr},
        {R"({"jsonrpc":"1.0","method":"x","id":3})", 3},
        {R"({"method":"x","id":4})", 4},
        {R"({"jsonrpc":"2.0","method":"x","params":5,"id":"q"})", "q"},
        {R"({"jsonrpc":"2.0","method":"x","id":{"a":1}})", nullptr},
        {R"({"jsonrpc":"2.0","id":1,"result":0})", 1},
        {"1", nullptr},
        {"\"str\"", nullptr},
        {"[]", nullptr},
    };
    for (const auto& c : cases) {
        incoming in = parse_incoming(c.text);
        ASSERT_FALSE(in.parse_failed) << c.text;
        ASSERT_EQ(in.items.size(), 1u) << c.text;
        EXPECT_FALSE(in.items[0].valid) << c.text;
        EXPECT_EQ(in.items[0].err.code, invalid_request) << c.text;
        EXPECT_EQ(in.items[0].err_id, c.id) << c.text;
        EXPECT_TRUE(in.items[0].err.data.contains("reason")) << c.text;
    }
}

TEST(message, batch_items_are_validated_one_by_one) {
    incoming in = parse_incoming(
        R"([1, {"jsonrpc":"2.0","method":"a","id":1}, {"jsonrpc":"2.0","method":"n"}])");
    ASSERT_TRUE(in.batch);
    ASSERT_EQ(in.items.size(), 3u);
    EXPECT_FALSE(in.items[0].valid);
    EXPECT_TRUE(in.items[1].valid);
    EXPECT_TRUE(in.items[2].req.is_notification);
}

TEST(message, nesting_depth_skips_strings_and_stops_past_the_limit) {
    EXPECT_EQ(nesting_depth("1", 64), 0u);
    EXPECT_EQ(nesting_depth(R"({"a":[[1],{"b":[]}]})", 64), 4u);
    EXPECT_EQ(nesting_depth(R"(["[[[[\"[[[", "]"])", 64), 1u);
    EXPECT_EQ(nesting_depth(std::string(1000, '['), 64), 65u); // stops at the first level past
}

TEST(message, too_deep_is_refused_before_parsing) {
    const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"m","params":)" +
                             std::string(150000, '[') + std::string(150000, ']') + "}";
    incoming in = parse_incoming(deep);
    ASSERT_FALSE(in.parse_failed);
    ASSERT_EQ(in.items.size(), 1u);
    EXPECT_FALSE(in.items[0].valid);
    EXPECT_EQ(in.items[0].err.code, invalid_request);
    EXPECT_EQ(in.items[0].err.data["limit"], max_nesting_depth);
    // 64 levels in all (the request object is one) are fine.
    const std::string ok = R"({"jsonrpc":"2.0","id":1,"method":"m","params":)" +
                           std::string(63, '[') + std::string(63, ']') + "}";
    EXPECT_TRUE(parse_incoming(ok).items.at(0).valid);
}

TEST(message, batch_over_the_limit_is_one_error) {
    auto batch = [](std::size_t n) {
        std::string s = "[";
        for (std::size_t i = 0; i < n; i++)
            s += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":1,"method":"m"})";
        return s + "]";
    };
    incoming in = parse_incoming(batch(max_batch_size + 1));
    ASSERT_EQ(in.items.size(), 1u);
    EXPECT_FALSE(in.batch);
    EXPECT_EQ(in.items[0].err.data["size"], max_batch_size + 1);
    EXPECT_EQ(in.items[0].err.data["limit"], max_batch_size);
    EXPECT_EQ(parse_incoming(batch(max_batch_size)).items.size(), max_batch_size);
}

TEST(message, builders) {
    EXPECT_EQ(to_text(make_response(1, json{{"x", 2}})),
              R"({"id":1,"jsonrpc":"2.0","result":{"x":2}})");
    EXPECT_EQ(
        to_text(make_error_response(nullptr, {method_not_found, "Method not found", {}})),
        R"({"error":{"code":-32601,"message":"Method not found"},"id":null,"jsonrpc":"2.0"})");
    json with_data = make_error_response("a", {-32001, "No such probe", json{{"id", 3}}});
    EXPECT_EQ(with_data["error"]["data"]["id"], 3);
    EXPECT_EQ(to_text(make_notification("events.lost", json{{"count", 5}})),
              R"({"jsonrpc":"2.0","method":"events.lost","params":{"count":5}})");
}

TEST(message, to_text_never_throws_on_bad_utf8) {
    json v = std::string("\xff\xfe");
    EXPECT_NO_THROW(to_text(v));
}

TEST(params, reads_typed_members) {
    json p = json::parse(R"({"s":"x","n":5,"h":"0xffffffffffffffff","d":"42","b":true,"a":[1]})");
    param_reader r(p);
    EXPECT_EQ(r.string("s", required), "x");
    EXPECT_EQ(r.u64("n", required), 5u);
    EXPECT_EQ(r.u64("h", required), UINT64_MAX);
    EXPECT_EQ(r.u64("d", required), 42u);
    EXPECT_EQ(r.boolean("b", required), true);
    EXPECT_NE(r.array("a", required), nullptr);
    EXPECT_EQ(r.string("missing", optional_param), std::nullopt);
    EXPECT_TRUE(r.ok());
}

TEST(params, missing_required_member_is_invalid_params) {
    json p = json::object();
    param_reader r(p);
    EXPECT_EQ(r.string("program", required), std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, invalid_params);
    EXPECT_EQ(r.error().data["param"], "program");
}

TEST(params, wrong_types_are_invalid_params) {
    json p = json::parse(R"({"s":1,"n":-1,"h":"0xzz","big":"0x10000000000000000","b":"yes"})");
    for (const char* name : {"s", "n", "h", "big", "b"}) {
        param_reader r(p);
        if (std::string(name) == "s")
            (void)r.string(name, required);
        else if (std::string(name) == "b")
            (void)r.boolean(name, required);
        else
            (void)r.u64(name, required);
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.error().code, invalid_params);
        EXPECT_EQ(r.error().data["param"], name);
    }
}

TEST(params, positional_params_are_refused) {
    json p = json::array({1, 2});
    param_reader r(p);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, invalid_params);
}

TEST(params, hex_u64) {
    EXPECT_EQ(hex_u64(0), "0x0");
    EXPECT_EQ(hex_u64(0x80000000deadbeefull), "0x80000000deadbeef");
    EXPECT_EQ(parse_u64(json(hex_u64(0x80000000deadbeefull))), 0x80000000deadbeefull);
}

} // namespace
} // namespace ruprobes::jsonrpc
