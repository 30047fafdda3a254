// The kernel command line: commands split on ';', leading "ruprobes." words are kernel flags.
#include "boot/command_line.hpp"

#include <gtest/gtest.h>

#include <string>

TEST(KernelCommandLine, CommandsAreTrimmedSegments) {
    command_line_init("  /bin/fib 15 ;/bin/hello;  ; /bin/spin &  ");
    ASSERT_EQ(command_count(), 3);
    EXPECT_STREQ(command_at(0), "/bin/fib 15");
    EXPECT_STREQ(command_at(1), "/bin/hello");
    EXPECT_STREQ(command_at(2), "/bin/spin &");
    EXPECT_EQ(command_at(3), nullptr);
    EXPECT_STREQ(command_line(), "  /bin/fib 15 ;/bin/hello;  ; /bin/spin &  ");
}

TEST(KernelCommandLine, LeadingRuprobesWordsAreFlags) {
    command_line_init("ruprobes.selftest ruprobes.bench=500 /bin/fib ruprobes.x; ruprobes.stay");
    EXPECT_TRUE(kernel_flag("ruprobes.selftest"));
    EXPECT_TRUE(kernel_flag("ruprobes.bench"));
    EXPECT_TRUE(kernel_flag("ruprobes.stay"));
    EXPECT_FALSE(kernel_flag("ruprobes.x")); // an argument of /bin/fib, not a flag
    EXPECT_FALSE(kernel_flag("ruprobes.self"));
    EXPECT_STREQ(kernel_flag_value("ruprobes.bench"), "500");
    EXPECT_EQ(kernel_flag_value("ruprobes.selftest"), nullptr);
    ASSERT_EQ(command_count(), 1);
    EXPECT_STREQ(command_at(0), "/bin/fib ruprobes.x");
}

TEST(KernelCommandLine, EmptyLineRunsTheDefaultAndFlagsOnlyRunNothing) {
    command_line_init("   ");
    ASSERT_EQ(command_count(), 1);
    EXPECT_STREQ(command_at(0), default_commands);
    command_line_init("ruprobes.selftest");
    EXPECT_EQ(command_count(), 0);
    EXPECT_TRUE(kernel_flag("ruprobes.selftest"));
}

TEST(KernelCommandLine, ALaterInitReplacesEverything) {
    command_line_init("ruprobes.stay; /bin/a; /bin/b");
    command_line_init("/bin/c");
    EXPECT_FALSE(kernel_flag("ruprobes.stay"));
    ASSERT_EQ(command_count(), 1);
    EXPECT_STREQ(command_at(0), "/bin/c");
}

TEST(KernelCommandLine, TooManyCommandsAndLongLinesAreCut) {
    std::string line;
    for (int i = 0; i < max_commands + 5; i++) {
        line += "/bin/hello;";
    }
    command_line_init(line.c_str());
    EXPECT_EQ(command_count(), max_commands);
    std::string long_line(2000, 'x');
    command_line_init(("/bin/" + long_line).c_str());
    ASSERT_EQ(command_count(), 1);
    EXPECT_EQ(std::string(command_at(0)).size(), 511u);
}
