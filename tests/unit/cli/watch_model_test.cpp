// The watch view's model: rows from probe.list, hits counted and paired into histograms,
// events.lost summed, unknown probes reported, filters, JSON.
#include "cli/watch_model.hpp"

#include <gtest/gtest.h>

namespace ruprobes::cli {
namespace {

using json = nlohmann::json;

json probe_list() {
    return json::parse(R"({"probes":[
        {"id":1,"program":"/bin/fib","address":"0x40000012","symbol":"fib","offset":0,
         "kind":"entry","insn_class":"simulate","insn":"addi","hits":10},
        {"id":2,"program":"/bin/fib","address":"0x40000012","symbol":"fib","offset":0,
         "kind":"return","insn_class":"simulate","insn":"addi","hits":10},
        {"id":3,"program":"/bin/fib","address":"0x40000020","symbol":"fib","offset":14,
         "kind":"insn","insn_class":"simulate","insn":"bgeu","hits":0}]})");
}

json hit(int probe, const char* kind, uint64_t time_ns, const char* sp, const char* a0,
         const char* ret = nullptr) {
    json p = {{"seq", time_ns},  {"time_ns", time_ns},
              {"probe", probe},  {"pid", 5},
              {"tid", 5},        {"pc", "0x40000012"},
              {"symbol", "fib"}, {"offset", 0},
              {"kind", kind},    {"args", {a0, "0x0", "0x0", "0x0", "0x0", "0x0", "0x0", "0x0"}},
              {"sp", sp},        {"ra", "0x40000100"}};
    if (ret)
        p["ret"] = ret;
    return {{"jsonrpc", "2.0"}, {"method", "probe.hit"}, {"params", p}};
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

TEST(watch_model, counts_rates_last_values_and_histogram) {
    watch_model m;
    m.set_probes(probe_list());
    EXPECT_FALSE(m.on_notification(hit(1, "entry", 1000, "0x7fff0000", "0x2")));
    EXPECT_FALSE(m.on_notification(hit(1, "entry", 1100, "0x7ffeffe0", "0x1")));
    EXPECT_FALSE(m.on_notification(hit(2, "return", 1200, "0x7ffeffe0", "0x0", "0x1")));
    EXPECT_FALSE(m.on_notification(hit(2, "return", 9000, "0x7fff0000", "0x0", "0x1")));
    m.on_notification(json::parse(
        R"({"jsonrpc":"2.0","method":"events.lost","params":{"count":7,"reason":"kernel_ring_full"}})"));
    m.end_interval(2.0);
    EXPECT_EQ(m.hits_seen(), 4u);
    EXPECT_EQ(m.lost(), 7u);
    const log2_histogram* h = m.histogram("fib:fib");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->count(), 2u);
    EXPECT_EQ(h->min(), 100u);
    EXPECT_EQ(h->max(), 8000u);

    std::string text = joined(m.render(true));
    EXPECT_NE(text.find("fib:fib"), std::string::npos) << text;
    EXPECT_NE(text.find("pid 5 a0=0x1 a1=0x0 a2=0x0"), std::string::npos) << text;
    EXPECT_NE(text.find("pid 5 ret=0x1"), std::string::npos) << text;
    EXPECT_NE(text.find("1.0"), std::string::npos) << text; // 2 hits in 2 s
    EXPECT_NE(text.find("fib:fib+14"), std::string::npos) << text;
    EXPECT_NE(text.find("events lost: 7"), std::string::npos) << text;
    EXPECT_NE(text.find("2 calls"), std::string::npos) << text;
    EXPECT_NE(text.find("|@"), std::string::npos) << text;
    // Without histograms: only the table.
    EXPECT_EQ(joined(m.render(false)).find("calls"), std::string::npos);

    json j = m.to_json();
    ASSERT_EQ(j["probes"].size(), 3u);
    EXPECT_EQ(j["probes"][0]["hits"], 10); // the daemon's total
    EXPECT_EQ(j["probes"][0]["seen"], 2);
    EXPECT_EQ(j["lost"], 7);
    EXPECT_EQ(j["functions"][0]["function"], "fib:fib");
    EXPECT_EQ(j["functions"][0]["histogram"]["count"], 2);
}

TEST(watch_model, last_hit_of_a_fetching_probe_shows_what_it_fetched) {
    watch_model m;
    m.set_probes(probe_list());
    json h = hit(1, "entry", 1000, "0x7fff0000", "0x2");
    h["params"]["fetch"] = json::parse(R"([
        {"reg":"a0","value":"0x3"},
        {"mem":"a1","addr":"0x1000","hex":"68656c6c6f"},
        {"str":"a1","addr":"0x1000","value":"hello"},
        {"str":"a2","addr":"0x2000","value":"abc","truncated":true},
        {"mem":"sp+16","addr":"0x7fff0010","error":"unreadable"}])");
    m.on_notification(h);
    std::string text = joined(m.render(false));
    EXPECT_NE(
        text.find(R"(pid 5 a0=0x3 [a1]=68656c6c6f a1="hello" a2="abc"... [sp+16]=<unreadable>)"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("a0=0x2"), std::string::npos) << text; // not the plain arguments

    // Data that never arrived is said so; a long string is cut.
    h["params"]["fetch"] =
        json::parse(R"([{"str":"a0","addr":"0x1","value":")" + std::string(100, 'x') + R"("}])");
    h["params"]["fetch_incomplete"] = true;
    m.on_notification(h);
    text = joined(m.render(false));
    EXPECT_NE(text.find("a0=\"" + std::string(40, 'x') + "...\" (incomplete)"), std::string::npos)
        << text;
    EXPECT_EQ(m.to_json()["probes"][0]["last"],
              "pid 5 a0=\"" + std::string(40, 'x') + "...\" (incomplete)");
}

TEST(watch_model, unknown_probe_is_reported_and_kept_until_listed) {
    watch_model m;
    m.set_probes(probe_list());
    EXPECT_TRUE(m.on_notification(hit(9, "entry", 1000, "0x100", "0x3")));
    EXPECT_FALSE(m.on_notification(hit(9, "entry", 1001, "0x100", "0x3")));
    std::string text = joined(m.render(false));
    EXPECT_NE(text.find("   9  entry"), std::string::npos) << text;
    m.set_probes(probe_list()); // still not listed, but seen: kept
    EXPECT_NE(joined(m.render(false)).find("   9  entry"), std::string::npos);
    // Listed probes that disappeared without hits go away.
    m.set_probes(json::parse(R"({"probes":[]})"));
    EXPECT_EQ(joined(m.render(false)).find("   3  insn"), std::string::npos);
}

TEST(watch_model, filter_and_process_exit) {
    watch_model m;
    m.set_probes(probe_list());
    m.set_filter({2});
    json exit = json::parse(
        R"({"jsonrpc":"2.0","method":"process.exit","params":{"pid":5,"status":0,"signaled":false}})");
    // The exit overtakes the last return: the pair still matches within the interval.
    m.on_notification(hit(1, "entry", 1000, "0x100", "0x3"));
    m.on_notification(exit);
    m.on_notification(hit(2, "return", 2000, "0x100", "0x0", "0x2"));
    ASSERT_NE(m.histogram("fib:fib"), nullptr);
    EXPECT_EQ(m.histogram("fib:fib")->count(), 1u);
    // An entry left open by an exited thread is forgotten one interval after the exit's.
    m.on_notification(hit(1, "entry", 3000, "0x200", "0x3"));
    m.on_notification(exit);
    m.end_interval(1);
    EXPECT_EQ(m.pairing().open_entries(), 1u);
    m.end_interval(1);
    EXPECT_EQ(m.pairing().open_entries(), 0u);
    m.on_notification(hit(2, "return", 4000, "0x200", "0x0", "0x2"));
    EXPECT_EQ(m.pairing().unmatched_returns(), 1u);
    EXPECT_EQ(m.histogram("fib:fib")->count(), 1u);

    std::string text = joined(m.render(true));
    EXPECT_EQ(text.find("   1  entry"), std::string::npos) << text;
    EXPECT_NE(text.find("   2  return"), std::string::npos) << text;
    EXPECT_EQ(m.to_json()["probes"].size(), 1u);
}

} // namespace
} // namespace ruprobes::cli
