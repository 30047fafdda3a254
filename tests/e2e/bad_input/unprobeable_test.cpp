// Probes the engine refuses — an ecall, a non-boundary (odd) address, an unmapped address, a
// kernel address — and unknown pids, programs and symbols, through JSON-RPC (an error object
// whose `data` carries the reason) and through gdb (`break *ADDR` → gdb cannot insert it); then
// normal sessions against the same daemon.
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "ruprobes_test/paths.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

// Address of the first `ecall` in the host copy of a user program (riscv64 objdump).
uint64_t first_ecall(const temp_dir& dir, const std::string& program) {
    spawn_options o;
    o.argv = {"riscv64-linux-gnu-objdump", "-d", std::string(user_dir) + "/" + program};
    o.output_file = dir.file("objdump.txt");
    child_process p(o);
    p.wait_exit(30s);
    std::smatch m;
    std::string text = p.output();
    if (!std::regex_search(text, m, std::regex("\\n\\s*([0-9a-f]+):\\s+[0-9a-f]+\\s+ecall")))
        return 0;
    return std::stoull(m[1], nullptr, 16);
}

std::string hex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

constexpr uint64_t kernel_address = 0xffffffff80200000ull;

TEST(bad_input, unprobeable_sites_and_unknown_targets_get_clear_errors) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd", {"--append", "ruprobes.stay"});
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    uint64_t ecall = first_ecall(dir, "fib");
    ASSERT_NE(ecall, 0u);
    json fib = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(fib.contains("result")) << fib.dump();
    uint64_t fib_addr = std::stoull(fib["result"]["address"].get<std::string>(), nullptr, 16);
    c.call("probe.remove", {{"id", fib["result"]["id"]}});

    // JSON-RPC: every refusal is an error object that says why.
    struct rpc_case {
        const char* name;
        json params;
        const char* reason; // the engine's reason, or nullptr: only a non-empty data
    };
    std::vector<rpc_case> cases = {
        {"ecall", {{"program", "/bin/fib"}, {"address", hex(ecall)}}, "insn_ecall"},
        {"odd address",
         {{"program", "/bin/fib"}, {"address", hex(fib_addr + 1)}},
         "addr_misaligned"},
        {"unmapped address", {{"program", "/bin/fib"}, {"address", "0x10"}}, nullptr},
        {"kernel address", {{"program", "/bin/fib"}, {"address", hex(kernel_address)}}, nullptr},
        {"unknown pid", {{"program", "/bin/fib"}, {"symbol", "fib"}, {"pid", 987654}}, nullptr},
        {"unknown program", {{"program", "/bin/nope"}, {"symbol", "main"}}, nullptr},
        {"unknown symbol", {{"program", "/bin/fib"}, {"symbol", "no_such_function"}}, nullptr},
    };
    for (const auto& k : cases) {
        json r = c.call("probe.add", k.params);
        ASSERT_TRUE(r.contains("error")) << k.name << ": " << r.dump();
        const json& e = r["error"];
        EXPECT_FALSE(e["message"].get<std::string>().empty()) << k.name;
        ASSERT_TRUE(e.contains("data") && e["data"].is_object()) << k.name << ": " << r.dump();
        EXPECT_FALSE(e["data"].empty()) << k.name << ": " << r.dump();
        if (k.reason) {
            EXPECT_EQ(e["data"]["reason"], k.reason) << k.name << ": " << r.dump();
        }
        std::printf("probe.add %s: %s\n", k.name, e.dump().c_str());
    }
    for (auto [method, params] : std::vector<std::pair<std::string, json>>{
             {"process.kill", {{"pid", 987654}}},
             {"process.spawn", {{"argv", {"/bin/nope"}}}},
             {"probe.remove", {{"id", 987654}}},
             {"events.unsubscribe", {{"subscription", 987654}}}}) {
        json r = c.call(method, params);
        EXPECT_TRUE(r.contains("error")) << method << ": " << r.dump();
    }
    json list = c.call("probe.list");
    EXPECT_EQ(list["result"]["probes"].size(), 0u) << "a refused probe was kept: " << list.dump();

    // gdb: the same sites as breakpoints cannot be inserted, except the ecall (a debugger
    // breakpoint is accepted on every instruction); an unknown pid cannot be attached; then a
    // good breakpoint works in the same session and the program ends normally.
    std::string out = run_gdb(dir, "gdb", "fib",
                              {"target extended-remote 127.0.0.1:" + std::to_string(d.rsp_port()),
                               "attach 987654", "set remote exec-file /bin/fib", "starti 6",
                               "break *" + hex(ecall), "break *" + hex(fib_addr + 1), "break *0x10",
                               "break *" + hex(kernel_address), "continue", "echo AFTER-REFUSAL\\n",
                               "delete", "break fib", "continue", "p n", "delete", "continue"});
    std::printf("%s\n", out.c_str());
    EXPECT_EQ(out.find("Cannot insert breakpoint 1"), std::string::npos) << out;
    for (int bp = 2; bp <= 4; bp++) {
        EXPECT_NE(out.find("Cannot insert breakpoint " + std::to_string(bp)), std::string::npos)
            << "breakpoint " << bp << ":\n"
            << out;
    }
    EXPECT_NE(out.find("Attaching to process 987654 failed"), std::string::npos) << out;
    EXPECT_NE(out.find("AFTER-REFUSAL"), std::string::npos) << out;
    EXPECT_NE(out.find("Breakpoint 5, fib (n=n@entry=6)"), std::string::npos) << out;
    EXPECT_NE(out.find("exited normally"), std::string::npos) << out;

    // A normal subscription still works.
    c.call("events.subscribe", {{"kinds", {"probe.hit", "events.lost"}}});
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    json p = c.call("process.spawn", {{"argv", {"/bin/fib", "6"}}});
    ASSERT_TRUE(p.contains("result")) << p.dump();
    EXPECT_EQ(read_hits(c, probe["result"]["id"], p["result"]["pid"], 25, 30s).hits, 25);
    EXPECT_TRUE(d.process().running());
}

} // namespace
} // namespace ruprobes::test
