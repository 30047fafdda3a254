// The DTB parser against the device tree QEMU itself generates for the `virt` machine.
#include "boot/device_tree.hpp"

#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

using namespace std::chrono_literals;

namespace {

// QEMU's own DTB for `-m 256M -append bootargs` (dumpdtb writes it and exits).
std::vector<uint8_t> qemu_dtb(const std::string& bootargs) {
    ruprobes::test::temp_dir dir;
    const std::string file = dir.file("virt.dtb");
    ruprobes::test::spawn_options options;
    options.argv = {"qemu-system-riscv64",
                    "-machine",
                    "virt,dumpdtb=" + file,
                    "-cpu",
                    "rv64",
                    "-smp",
                    "1",
                    "-m",
                    "256M",
                    "-nographic",
                    "-bios",
                    "default",
                    "-kernel",
                    ruprobes::test::kernel_elf,
                    "-append",
                    bootargs};
    options.output_file = dir.file("qemu.log");
    ruprobes::test::child_process qemu(options);
    EXPECT_EQ(qemu.wait_exit(20s), 0) << qemu.output();
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST(KernelDeviceTree, ReadsMemoryTimebaseAndBootargsFromQemuVirt) {
    std::vector<uint8_t> dtb = qemu_dtb("ruprobes.stay; /bin/fib 15");
    ASSERT_GT(dtb.size(), 40u);
    boot_info info;
    ASSERT_TRUE(parse_device_tree(reinterpret_cast<uint64_t>(dtb.data()), info));
    EXPECT_EQ(info.memory_base, 0x80000000u);
    EXPECT_EQ(info.memory_size, 256u << 20);
    EXPECT_EQ(info.timebase_hz, 10'000'000u);
    EXPECT_STREQ(info.bootargs, "ruprobes.stay; /bin/fib 15");
    EXPECT_EQ(info.dtb_begin, reinterpret_cast<uint64_t>(dtb.data()));
    EXPECT_GT(info.dtb_end, info.dtb_begin);
    EXPECT_LE(info.dtb_end - info.dtb_begin, dtb.size());
}

TEST(KernelDeviceTree, RejectsWhatIsNotADeviceTree) {
    boot_info info;
    EXPECT_FALSE(parse_device_tree(0, info));
    std::vector<uint8_t> junk(4096, 0x5a);
    EXPECT_FALSE(parse_device_tree(reinterpret_cast<uint64_t>(junk.data()), info));
    EXPECT_EQ(info.memory_size, 0u);
}

TEST(KernelDeviceTree, RejectsOffsetsOutsideTheBlob) {
    std::vector<uint8_t> dtb = qemu_dtb("x");
    ASSERT_GT(dtb.size(), 40u);
    dtb[36] = 0x7f; // size_dt_struct far beyond totalsize
    boot_info info;
    EXPECT_FALSE(parse_device_tree(reinterpret_cast<uint64_t>(dtb.data()), info));
}
