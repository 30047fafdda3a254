// Linux and gdb signal numbers (gdb/signals.def): stop and exit replies speak gdb's.
#include "target_model/signal_numbers.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::target;

TEST(signal_numbers, linux_to_gdb_where_they_differ) {
    EXPECT_EQ(gdb_signal_of_linux(7), 10) << "SIGBUS (gdb's 7 is SIGEMT)";
    EXPECT_EQ(gdb_signal_of_linux(10), 30) << "SIGUSR1";
    EXPECT_EQ(gdb_signal_of_linux(19), 17) << "SIGSTOP";
    EXPECT_EQ(gdb_signal_of_linux(31), 12) << "SIGSYS";
    EXPECT_EQ(gdb_signal_of_linux(16), 143) << "SIGSTKFLT: gdb's unknown signal";
    for (int same : {0, 4, 5, 9, 11, 15})
        EXPECT_EQ(gdb_signal_of_linux(same), same) << same;
}

TEST(signal_numbers, round_trip_for_every_linux_signal_gdb_names) {
    for (int l = 1; l < 32; l++) {
        if (l == 16)
            continue;
        EXPECT_EQ(linux_signal_of_gdb(gdb_signal_of_linux(l)), l) << l;
    }
    EXPECT_EQ(linux_signal_of_gdb(7), 0) << "SIGEMT does not exist on Linux";
    EXPECT_EQ(linux_signal_of_gdb(0), 0);
}
