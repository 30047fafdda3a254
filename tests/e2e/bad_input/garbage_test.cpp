// Random and malformed bytes (seeded, so a failure can be replayed) on the RSP port — bad
// checksums, huge and truncated packets, well-formed packets with nonsense arguments, raw noise —
// and on the JSON-RPC port — invalid JSON, wrong types, huge messages, bad Content-Length headers,
// binary. Wrong requests that can be answered get the right error; afterwards the same daemon
// serves a normal gdb session and a normal subscription.
#include "fault_helpers.hpp"
#include "gdb_session.hpp"
#include "hostile_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s)
        ch = static_cast<char>(rng() & 0xff);
    return s;
}

std::string random_printable(std::mt19937& rng, size_t n) {
    static const std::string alphabet = "0123456789abcdefABCDEF,:;=.-+?!$#*}qQvVmMgGpPxXzZcCsSHk";
    std::string s(n, '\0');
    for (auto& ch : s)
        ch = alphabet[rng() % alphabet.size()];
    return s;
}

TEST(bad_input, garbage_on_both_ports_then_normal_sessions) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd", {"--append", "ruprobes.stay"});
    std::mt19937 rng(20261126);
    {
        rpc_test_client c(d.rpc_port());
        ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    }

    // --- RSP ---
    // A bad checksum is refused with '-' (acknowledgment mode is the start state).
    std::string nak = tcp_exchange(d.rsp_port(), "$qSupported:multiprocess+#00");
    EXPECT_NE(nak.find('-'), std::string::npos) << nak;
    std::vector<std::string> inputs = {
        "$" + std::string(1 << 20, 'A') + "#00",           // huge, bad checksum
        rsp_packet("m" + std::string(200000, '1') + ",4"), // huge, good checksum
        "$qSupported:multipr",                             // truncated
        "$qSupported#3",                                   // truncated checksum
        "}}}}}$}#}}",                                      // escapes where they do not belong
        std::string("\x03\x03\x03", 3),                    // interrupts with no process
        "+++---+-+-",                                      // acks of nothing
        rsp_packet("qSupported:multiprocess+") + rsp_packet("QStartNoAckMode") + "+" +
            rsp_packet("m0,ffffffffffffffff") + rsp_packet("Mzz,1:00") + rsp_packet("X10,4:\x7d") +
            rsp_packet("Z0,zz,4") + rsp_packet("Z0,10,99") + rsp_packet("z0,10,4") +
            rsp_packet("vAttach;zz") + rsp_packet("vAttach;987654") + rsp_packet("Hgp987654.1") +
            rsp_packet("Hc-5") + rsp_packet("qXfer:features:read:nothing.xml:0,fff") +
            rsp_packet("qXfer:features:read:target.xml:zz,zz") + rsp_packet("p1000") +
            rsp_packet("P1000=00") + rsp_packet("G00") + rsp_packet("vCont;q") +
            rsp_packet("vCont;c:p99999.1") + rsp_packet("vRun;") +
            rsp_packet("vRun;2f62696e2f6e6f7065") + rsp_packet("vKill;987654") + rsp_packet("s") +
            rsp_packet("c") + rsp_packet("D;987654") + rsp_packet("k"),
    };
    for (int i = 0; i < 24; i++)
        inputs.push_back(random_bytes(rng, 1 + rng() % 8192));
    for (int i = 0; i < 24; i++)
        inputs.push_back(rsp_packet(random_printable(rng, rng() % 600)));
    for (const auto& in : inputs) {
        tcp_exchange(d.rsp_port(), in, 100ms);
        ASSERT_TRUE(d.process().running()) << "input of " << in.size() << " bytes\n"
                                           << d.process().output();
    }

    // --- JSON-RPC ---
    {
        rpc_test_client c(d.rpc_port());
        auto expect_code = [&](const std::string& text, int code) {
            c.raw(text + "\n");
            auto msg = c.receive(10s);
            ASSERT_TRUE(msg) << "no answer to " << text;
            ASSERT_TRUE(msg->contains("error")) << text << " -> " << msg->dump();
            EXPECT_EQ((*msg)["error"]["code"], code) << text << " -> " << msg->dump();
        };
        expect_code(R"({"jsonrpc":"2.0","id":1,"method":"probe.add","params":{"program":5}})",
                    -32602);
        expect_code(
            R"({"jsonrpc":"2.0","id":2,"method":"probe.add","params":{"program":"/bin/fib",)"
            R"("symbol":["fib"]}})",
            -32602);
        expect_code(
            R"({"jsonrpc":"2.0","id":3,"method":"probe.add","params":{"program":"/bin/fib",)"
            R"("address":-1}})",
            -32602);
        expect_code(R"({"jsonrpc":"2.0","id":4,"method":"process.spawn","params":{"argv":"fib"}})",
                    -32602);
        expect_code(R"({"jsonrpc":"2.0","id":5,"method":"process.kill","params":{"pid":"x"}})",
                    -32602);
        expect_code(R"({"jsonrpc":"2.0","id":6,"method":7})", -32600);
        expect_code(R"({"jsonrpc":"1.0","id":7,"method":"target.status"})", -32600);
        expect_code(R"({"jsonrpc":"2.0","id":8,"method":"no.such.method"})", -32601);
        expect_code(R"({"jsonrpc":"2.0","id":9,"method":"events.subscribe","params":)"
                    R"({"kinds":"probe.hit"}})",
                    -32602);
        expect_code(R"([])", -32600);
        expect_code("{\"jsonrpc\":\"2.0\",\xff\xfe}", -32700);
        json ok = c.call("target.status");
        EXPECT_TRUE(ok.contains("result")) << ok.dump();
    }
    std::vector<std::string> rpc_inputs = {
        "Content-Length: 99999999999\r\n\r\n{}",
        "Content-Length: abc\r\n\r\n{}",
        "Content-Length: 10\r\n\r\n{\"jsonrpc\"",
        std::string(3 << 20, '['),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"target.status\",\"params\":{\"pad\":\"" +
            std::string(3 << 20, 'x'),
        std::string(100000, '\n'),
    };
    for (int i = 0; i < 24; i++)
        rpc_inputs.push_back(random_bytes(rng, 1 + rng() % 8192));
    for (const auto& in : rpc_inputs) {
        tcp_exchange(d.rpc_port(), in, 100ms);
        ASSERT_TRUE(d.process().running()) << "input of " << in.size() << " bytes\n"
                                           << d.process().output();
    }

    // --- afterwards: a normal gdb session and a normal subscription ---
    expect_normal_sessions(dir, d);
}

} // namespace
} // namespace ruprobes::test
