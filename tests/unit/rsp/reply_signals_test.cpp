// Signals in exit replies are gdb's numbers (gdb/signals.def), the kernel's are Linux's.
#include "rsp/debug_session.hpp"

#include <gtest/gtest.h>

using namespace ruprobes;

TEST(reply_signals, exit_reply_translates_linux_signals_to_gdb_numbers) {
    EXPECT_EQ(rsp::debug_session::exit_reply({4, true, 7}), "X0a;process:4") << "SIGBUS";
    EXPECT_EQ(rsp::debug_session::exit_reply({4, true, 11}), "X0b;process:4") << "SIGSEGV";
    EXPECT_EQ(rsp::debug_session::exit_reply({4, true, 10}), "X1e;process:4") << "SIGUSR1";
    EXPECT_EQ(rsp::debug_session::exit_reply({4, false, 7}), "W07;process:4") << "an exit code";
}
