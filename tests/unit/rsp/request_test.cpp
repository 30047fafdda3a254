// RSP connection layer, packet side: typed requests from payloads, malformed ones as values.
#include "ruprobes/rsp/request.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::rsp;

namespace {

template <typename T>
T as(std::string_view payload) {
    auto r = parse_request(payload);
    auto* p = std::get_if<T>(&r);
    if (!p) {
        ADD_FAILURE() << "'" << payload << "' parsed as variant index " << r.index();
        return T{};
    }
    return *p;
}

bool is_malformed(std::string_view payload) {
    return std::holds_alternative<malformed_req>(parse_request(payload));
}

TEST(request, memory_and_registers) {
    auto m = as<read_memory_req>("m10000,4");
    EXPECT_EQ(m.addr, 0x10000u);
    EXPECT_EQ(m.len, 4u);
    auto w = as<write_memory_req>("M10,2:abcd");
    EXPECT_EQ(w.addr, 0x10u);
    EXPECT_EQ(w.bytes, (std::vector<uint8_t>{0xab, 0xcd}));
    auto x = as<write_memory_req>(std::string_view("X20,3:a\0#", 9));
    EXPECT_EQ(x.bytes, (std::vector<uint8_t>{'a', 0, '#'}));
    EXPECT_EQ(as<read_register_req>("p20").regno, 32u);
    auto P = as<write_register_req>("P1=0100000000000000");
    EXPECT_EQ(P.regno, 1u);
    EXPECT_EQ(le_value(P.bytes.data(), P.bytes.size()), 1u);
    as<read_registers_req>("g");
    EXPECT_EQ(as<write_registers_req>("G0001").bytes.size(), 2u);
}

TEST(request, malformed_arguments) {
    for (auto p : {"m",
                   "m10000",
                   "mxyz,4",
                   "M10,2:abc",
                   "M10,3:abcd",
                   "X10,5:ab",
                   "p",
                   "pzz",
                   "P1",
                   "P1=xyz",
                   "Z0",
                   "Z9,10,2",
                   "Hx1",
                   "Hgp",
                   "vAttach;",
                   "vAttach;0",
                   "vCont;",
                   "vCont;q",
                   "vCont;C",
                   "vRun;zz",
                   "C",
                   "Cxx",
                   "c10000",
                   "G0",
                   "m11111111111111111,1",
                   "D1",
                   "qXfer:features:read:target.xml:zz"})
        EXPECT_TRUE(is_malformed(p)) << p;
}

TEST(request, unknown_packets) {
    for (auto p : {"", "J", "vFile:open:", "bc", "Ahello"})
        EXPECT_TRUE(std::holds_alternative<unknown_req>(parse_request(p))) << p;
}

TEST(request, breakpoints) {
    auto z = as<breakpoint_req>("Z0,10006,2");
    EXPECT_TRUE(z.insert);
    EXPECT_EQ(z.type, 0u);
    EXPECT_EQ(z.addr, 0x10006u);
    EXPECT_EQ(z.kind, 2u);
    auto cond = as<breakpoint_req>("Z0,10006,4;X3,220102");
    EXPECT_EQ(cond.conditions, "X3,220102");
    ASSERT_EQ(cond.condition_exprs.size(), 1u);
    EXPECT_EQ(cond.condition_exprs[0], (std::vector<uint8_t>{0x22, 0x01, 0x02}));
    EXPECT_FALSE(as<breakpoint_req>("z0,10006,2").insert);
}

TEST(request, breakpoint_condition_lists) {
    // gdb writes the entries back to back (remote.c), commands after a ';'.
    auto two = as<breakpoint_req>("Z0,10006,2;X2,2227X3,260a27;cmds:0,X1,27");
    ASSERT_EQ(two.condition_exprs.size(), 2u);
    EXPECT_EQ(two.condition_exprs[1], (std::vector<uint8_t>{0x26, 0x0a, 0x27}));
    // The length must match the bytes; anything but X entries (or cmds:) is malformed.
    for (auto p : {"Z0,10006,2;X3,2227", "Z0,10006,2;X2,22", "Z0,10006,2;Y2,2227", "Z0,10006,2;X0,",
                   "Z0,10006,2;X2,22zz", "Z0,10006,2;X2", "Z0,10006,2;X1,2227",
                   "Z0,10006,2;Xffffffffffffffff,22"})
        EXPECT_TRUE(is_malformed(p)) << p;
}

TEST(request, threads_in_multiprocess_form) {
    auto h = as<set_thread_req>("Hgp64.65");
    EXPECT_EQ(h.op, 'g');
    EXPECT_EQ(h.thread.pid, 100);
    EXPECT_EQ(h.thread.tid, 101);
    auto all = as<set_thread_req>("Hc-1");
    EXPECT_FALSE(all.thread.pid);
    EXPECT_EQ(all.thread.tid, thread_ref::all);
    auto pall = as<set_thread_req>("Hcp64.-1");
    EXPECT_EQ(pall.thread.tid, thread_ref::all);
    auto p_only = parse_thread_ref("p64");
    ASSERT_TRUE(p_only);
    EXPECT_EQ(p_only->pid, 100);
    EXPECT_EQ(p_only->tid, thread_ref::all);
    EXPECT_EQ(as<set_thread_req>("Hg0").thread.tid, thread_ref::any);
    EXPECT_EQ(format_thread(100, 101), "p64.65");
    EXPECT_EQ(as<thread_alive_req>("Tp64.64").thread.pid, 100);
}

TEST(request, resume_packets) {
    auto c = as<continue_req>("c");
    ASSERT_EQ(c.actions.size(), 1u);
    EXPECT_EQ(c.actions[0].action, 'c');
    auto S = as<continue_req>("S02");
    EXPECT_EQ(S.actions[0].action, 'S');
    EXPECT_EQ(S.actions[0].signal, 2);
    auto v = as<continue_req>("vCont;s:p64.64;c");
    ASSERT_EQ(v.actions.size(), 2u);
    EXPECT_EQ(v.actions[0].action, 's');
    ASSERT_TRUE(v.actions[0].thread);
    EXPECT_EQ(v.actions[0].thread->pid, 100);
    EXPECT_EQ(v.actions[1].action, 'c');
    EXPECT_FALSE(v.actions[1].thread);
    auto C = as<continue_req>("vCont;C0b:p64.-1");
    EXPECT_EQ(C.actions[0].signal, 11);
    as<vcont_query_req>("vCont?");
}

TEST(request, extended_remote) {
    as<extended_mode_req>("!");
    auto run = as<run_req>("vRun;2f62696e2f666962;3230");
    ASSERT_EQ(run.argv.size(), 2u);
    EXPECT_EQ(run.argv[0], "/bin/fib");
    EXPECT_EQ(run.argv[1], "20");
    auto empty = as<run_req>("vRun;");
    ASSERT_EQ(empty.argv.size(), 1u);
    EXPECT_EQ(empty.argv[0], "");
    EXPECT_EQ(as<attach_req>("vAttach;64").pid, 100);
    EXPECT_EQ(as<kill_req>("vKill;64").pid, 100);
    EXPECT_FALSE(as<kill_req>("k").pid);
    EXPECT_EQ(as<detach_req>("D;64").pid, 100);
    EXPECT_FALSE(as<detach_req>("D").pid);
}

TEST(request, queries) {
    auto q = as<query_req>("qSupported:multiprocess+;swbreak+");
    EXPECT_FALSE(q.set);
    EXPECT_EQ(q.name, "Supported");
    EXPECT_EQ(q.args, "multiprocess+;swbreak+");
    EXPECT_EQ(as<query_req>("qfThreadInfo").name, "fThreadInfo");
    EXPECT_EQ(as<query_req>("qAttached:64").args, "64");
    auto Q = as<query_req>("QStartNoAckMode");
    EXPECT_TRUE(Q.set);
    EXPECT_EQ(Q.name, "StartNoAckMode");
    auto x = as<xfer_read_req>("qXfer:features:read:target.xml:0,ffb");
    EXPECT_EQ(x.object, "features");
    EXPECT_EQ(x.annex, "target.xml");
    EXPECT_EQ(x.offset, 0u);
    EXPECT_EQ(x.length, 0xffbu);
}

TEST(request, hex_helpers) {
    EXPECT_EQ(le_hex(0x10006), "0600010000000000");
    EXPECT_EQ(string_to_hex("OK\n"), "4f4b0a");
    EXPECT_FALSE(parse_hex(""));
    EXPECT_FALSE(parse_hex("12345678123456789"));
    EXPECT_EQ(parse_signed_hex("-1"), -1);
}

} // namespace
