// dispatcher: every standard error code, notifications, batches, late (asynchronous) answers,
// handler failures.
#include "ruprobes/jsonrpc/dispatcher.hpp"
#include "ruprobes/jsonrpc/params.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace ruprobes::jsonrpc {
namespace {

class dispatcher_test : public ::testing::Test {
protected:
    dispatcher_test() {
        methods.add_sync("echo",
                         [](const json& params, call_context*) -> method_result { return params; });
        methods.add_sync("add", [](const json& params, call_context*) -> method_result {
            param_reader p(params);
            auto a = p.u64("a", required);
            auto b = p.u64("b", required);
            if (!p.ok())
                return fail(p.error());
            return json(*a + *b);
        });
        methods.add_sync("fail", [](const json&, call_context*) -> method_result {
            return fail(rpc_error{-32001, "No such probe", json{{"id", 9}}});
        });
        methods.add_sync("throws", [](const json&, call_context*) -> method_result {
            throw std::runtime_error("boom");
        });
        methods.add_sync("type_error", [](const json& params, call_context*) -> method_result {
            return json(params.at("x").get<std::string>());
        });
        methods.add("later", [this](call& c) { parked.push_back(c.respond); });
        methods.add_sync("count", [this](const json&, call_context*) -> method_result {
            calls++;
            return json(calls);
        });
    }

    // Dispatches `text`; the response text, or nothing when none was sent.
    std::optional<json> run(const std::string& text) {
        std::optional<json> out;
        int sends = 0;
        dispatcher d(methods);
        d.dispatch(text, nullptr, [&](std::string response) {
            sends++;
            if (!response.empty())
                out = json::parse(response);
        });
        EXPECT_EQ(sends, 1);
        return out;
    }

    method_table methods;
    std::vector<std::function<void(method_result)>> parked;
    int calls = 0;
};

TEST_F(dispatcher_test, request_gets_result_with_same_id) {
    auto r = run(R"({"jsonrpc":"2.0","method":"add","params":{"a":2,"b":40},"id":"q1"})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["jsonrpc"], "2.0");
    EXPECT_EQ((*r)["id"], "q1");
    EXPECT_EQ((*r)["result"], 42);
    EXPECT_FALSE(r->contains("error"));
}

TEST_F(dispatcher_test, parse_error_32700) {
    auto r = run(R"({"jsonrpc":"2.0","method":"add",)");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32700);
    EXPECT_TRUE((*r)["id"].is_null());
}

TEST_F(dispatcher_test, invalid_request_32600) {
    auto r = run(R"({"jsonrpc":"2.0","method":1,"params":"bar"})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32600);
    EXPECT_TRUE((*r)["id"].is_null());
    EXPECT_TRUE((*r)["error"]["data"].contains("reason"));
}

TEST_F(dispatcher_test, method_not_found_32601) {
    auto r = run(R"({"jsonrpc":"2.0","method":"nope","id":1})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32601);
    EXPECT_EQ((*r)["error"]["data"]["method"], "nope");
    EXPECT_EQ((*r)["id"], 1);
}

TEST_F(dispatcher_test, invalid_params_32602) {
    auto r = run(R"({"jsonrpc":"2.0","method":"add","params":{"a":"x"},"id":2})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32602);
    EXPECT_EQ((*r)["error"]["data"]["param"], "a");
    auto t = run(R"({"jsonrpc":"2.0","method":"type_error","params":{"x":1},"id":3})");
    EXPECT_EQ((*t)["error"]["code"], -32602);
}

TEST_F(dispatcher_test, internal_error_32603_when_handler_throws) {
    auto r = run(R"({"jsonrpc":"2.0","method":"throws","id":4})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32603);
    EXPECT_EQ((*r)["error"]["data"]["reason"], "boom");
}

TEST_F(dispatcher_test, application_error_carries_data) {
    auto r = run(R"({"jsonrpc":"2.0","method":"fail","id":5})");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], -32001);
    EXPECT_EQ((*r)["error"]["message"], "No such probe");
    EXPECT_EQ((*r)["error"]["data"]["id"], 9);
}

TEST_F(dispatcher_test, notifications_get_no_response_but_run) {
    EXPECT_FALSE(run(R"({"jsonrpc":"2.0","method":"count"})"));
    EXPECT_FALSE(run(R"({"jsonrpc":"2.0","method":"unknown_method"})"));
    EXPECT_FALSE(run(R"({"jsonrpc":"2.0","method":"fail"})"));
    EXPECT_EQ(calls, 1);
}

TEST_F(dispatcher_test, batch_spec_example) {
    // JSON-RPC 2.0 §7 "rpc call Batch", with our methods.
    auto r = run(R"([
        {"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":"1"},
        {"jsonrpc":"2.0","method":"count","params":[7]},
        {"jsonrpc":"2.0","method":"echo","params":{"v":1},"id":"2"},
        {"foo":"boo"},
        {"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},
        {"jsonrpc":"2.0","method":"add","params":{"a":1},"id":"9"}
    ])");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->is_array());
    ASSERT_EQ(r->size(), 5u);
    EXPECT_EQ((*r)[0]["result"], 3);
    EXPECT_EQ((*r)[1]["result"]["v"], 1);
    EXPECT_EQ((*r)[2]["error"]["code"], -32600);
    EXPECT_EQ((*r)[3]["error"]["code"], -32601);
    EXPECT_EQ((*r)[4]["error"]["code"], -32602);
    EXPECT_EQ(calls, 1);
}

TEST_F(dispatcher_test, batch_of_notifications_gets_nothing) {
    EXPECT_FALSE(run(R"([{"jsonrpc":"2.0","method":"count"},{"jsonrpc":"2.0","method":"count"}])"));
    EXPECT_EQ(calls, 2);
}

TEST_F(dispatcher_test, invalid_batches) {
    auto empty = run("[]");
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->is_array());
    EXPECT_EQ((*empty)["error"]["code"], -32600);
    auto ones = run("[1,2,3]");
    ASSERT_TRUE(ones && ones->is_array());
    ASSERT_EQ(ones->size(), 3u);
    for (const json& e : *ones)
        EXPECT_EQ(e["error"]["code"], -32600);
}

TEST_F(dispatcher_test, late_answers_complete_the_batch_once) {
    std::optional<json> out;
    int sends = 0;
    dispatcher d(methods);
    d.dispatch(R"([{"jsonrpc":"2.0","method":"later","id":1},
                   {"jsonrpc":"2.0","method":"echo","params":{"x":1},"id":2},
                   {"jsonrpc":"2.0","method":"later","id":3}])",
               nullptr, [&](std::string text) {
                   sends++;
                   out = json::parse(text);
               });
    EXPECT_EQ(sends, 0);
    ASSERT_EQ(parked.size(), 2u);
    parked[1](json("third"));
    EXPECT_EQ(sends, 0);
    parked[0](fail(rpc_error{-32000, "Target not connected", {}}));
    parked[0](json("second answer is ignored"));
    ASSERT_EQ(sends, 1);
    ASSERT_TRUE(out->is_array());
    ASSERT_EQ(out->size(), 3u);
    // Answers come in completion order; ids tie them to requests (§6).
    std::map<int, json> by_id;
    for (const json& e : *out)
        by_id[e["id"].get<int>()] = e;
    EXPECT_EQ(by_id[1]["error"]["code"], -32000);
    EXPECT_EQ(by_id[2]["result"]["x"], 1);
    EXPECT_EQ(by_id[3]["result"], "third");
}

TEST_F(dispatcher_test, oversized_response) {
    json r = json::parse(dispatcher::oversized_response(2000, 1024));
    EXPECT_EQ(r["error"]["code"], -32600);
    EXPECT_EQ(r["error"]["data"]["size"], 2000);
    EXPECT_EQ(r["error"]["data"]["limit"], 1024);
    EXPECT_TRUE(r["id"].is_null());
}

} // namespace
} // namespace ruprobes::jsonrpc
