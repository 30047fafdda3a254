// Breakpoints outside program text: a SIGSEGV stop at one is reported as that breakpoint.
#include "rsp/debug_session.hpp"
#include "rsp/fetch_breakpoints.hpp"

#include <gtest/gtest.h>

using namespace ruprobes;
using namespace ruprobes::target;

namespace {

stop_event fault_at(uint64_t pc, int signal = gdb_signal::sigsegv) {
    stop_event e;
    e.thread = thread_id{4, 4};
    e.reason = stop_reason::signal;
    e.signal = signal;
    e.regs.pc = pc;
    return e;
}

TEST(fetch_breakpoints, a_fetch_fault_there_is_a_swbreak_stop) {
    rsp::fetch_breakpoints b;
    b.insert(0x7ffeff80);
    stop_event r = b.as_reported(fault_at(0x7ffeff80));
    EXPECT_EQ(r.reason, stop_reason::breakpoint);
    EXPECT_EQ(r.signal, gdb_signal::sigtrap);
    std::string reply = rsp::debug_session::stop_reply(r);
    EXPECT_EQ(reply.substr(0, 3), "T05") << reply;
    EXPECT_NE(reply.find("swbreak:;"), std::string::npos) << reply;
}

TEST(fetch_breakpoints, other_stops_are_left_alone) {
    rsp::fetch_breakpoints b;
    b.insert(0x7ffeff80);
    EXPECT_EQ(b.as_reported(fault_at(0x7ffeff84)).reason, stop_reason::signal);
    EXPECT_EQ(b.as_reported(fault_at(0x7ffeff80, gdb_signal::sigill)).signal, gdb_signal::sigill);
    EXPECT_TRUE(b.remove(0x7ffeff80));
    EXPECT_FALSE(b.remove(0x7ffeff80));
    stop_event r = b.as_reported(fault_at(0x7ffeff80));
    EXPECT_EQ(r.reason, stop_reason::signal);
    EXPECT_EQ(rsp::debug_session::stop_reply(r).substr(0, 3), "T0b");
}

} // namespace
