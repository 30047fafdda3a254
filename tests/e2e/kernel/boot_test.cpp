// The reference kernel boots under QEMU + OpenSBI, prints its banner and powers off cleanly.
#include "ruprobes_test/qemu_guest.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using ruprobes::test::qemu_guest;
using ruprobes::test::temp_dir;

TEST(KernelBoot, PrintsBannerAndPowersOff) {
    temp_dir dir;
    qemu_guest guest(dir);
    ASSERT_TRUE(guest.wait_for_console("ruprobes kernel", 20s)) << guest.console();
    auto status = guest.wait_exit(20s);
    ASSERT_TRUE(status.has_value()) << "QEMU did not power off:\n" << guest.console();
    EXPECT_EQ(*status, 0) << guest.console();
    EXPECT_NE(guest.console().find("program /bin/hello"), std::string::npos) << guest.console();
}
