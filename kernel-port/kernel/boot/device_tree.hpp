// The few facts the kernel takes from the flattened device tree OpenSBI hands over in a1
// (Devicetree Specification v0.4, chapter 5: the DTB format).
#pragma once

#include <stddef.h>
#include <stdint.h>

struct boot_info {
    uint64_t memory_base = 0; // /memory reg (first range)
    uint64_t memory_size = 0;
    uint64_t timebase_hz = 0; // /cpus timebase-frequency
    uint64_t dtb_begin = 0;   // where the DTB itself lies (the frame allocator skips it)
    uint64_t dtb_end = 0;
    char bootargs[512] = {}; // /chosen bootargs (QEMU -append), "" when absent
};

// Parses the DTB at physical address `dtb` into `info`. Returns false when there is no valid DTB
// there (bad magic or version); fields it does not find keep their defaults.
bool parse_device_tree(uint64_t dtb, boot_info& info);
