#include "boot/device_tree.hpp"

#include "lib/string.hpp"

namespace {

// Devicetree Specification v0.4 §5.2 (header) and §5.4 (structure block tokens).
constexpr uint32_t fdt_magic = 0xd00dfeed;
constexpr uint32_t fdt_begin_node = 1;
constexpr uint32_t fdt_end_node = 2;
constexpr uint32_t fdt_prop = 3;
constexpr uint32_t fdt_nop = 4;
constexpr uint32_t fdt_end = 9;

uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A big-endian number of `cells` 32-bit cells.
uint64_t read_cells(const uint8_t* p, uint32_t cells) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < cells; i++) {
        v = (v << 32) | be32(p + 4 * i);
    }
    return v;
}

size_t align4(size_t n) {
    return (n + 3) & ~size_t{3};
}

bool starts_with(const char* s, const char* prefix) {
    return kstrncmp(s, prefix, kstrlen(prefix)) == 0;
}

} // namespace

bool parse_device_tree(uint64_t dtb, boot_info& info) {
    const auto* base = reinterpret_cast<const uint8_t*>(dtb);
    if (base == nullptr || be32(base) != fdt_magic || be32(base + 20) > 17 /* last_comp */) {
        return false;
    }
    const uint32_t total = be32(base + 4);
    const uint32_t struct_offset = be32(base + 8);
    const uint32_t strings_offset = be32(base + 12);
    const uint32_t struct_size = be32(base + 36);
    if (total < 40 || struct_offset > total || struct_size > total - struct_offset ||
        strings_offset > total) {
        return false;
    }
    const uint8_t* structs = base + struct_offset;
    const char* strings = reinterpret_cast<const char*>(base + strings_offset);
    info.dtb_begin = dtb;
    info.dtb_end = dtb + total;

    // Only the root's cell sizes matter: /memory is a child of the root.
    uint32_t address_cells = 2;
    uint32_t size_cells = 1;
    int depth = 0;
    const char* node = "";         // name of the current node at depth 1
    bool in_cpus_or_child = false; // timebase-frequency sits in /cpus
    size_t off = 0;
    while (off + 4 <= struct_size) {
        const uint32_t token = be32(structs + off);
        off += 4;
        if (token == fdt_begin_node) {
            const char* name = reinterpret_cast<const char*>(structs + off);
            off = align4(off + kstrlen(name) + 1);
            depth++;
            if (depth == 2) {
                node = name;
                in_cpus_or_child = kstrcmp(name, "cpus") == 0;
            }
        } else if (token == fdt_end_node) {
            depth--;
            if (depth == 1) {
                node = "";
                in_cpus_or_child = false;
            }
        } else if (token == fdt_prop) {
            if (off + 8 > struct_size) {
                return false;
            }
            const uint32_t len = be32(structs + off);
            const char* pname = strings + be32(structs + off + 4);
            const uint8_t* value = structs + off + 8;
            if (len > struct_size - off - 8) {
                return false;
            }
            off = align4(off + 8 + len);
            if (depth == 1 && kstrcmp(pname, "#address-cells") == 0 && len == 4) {
                address_cells = be32(value);
            } else if (depth == 1 && kstrcmp(pname, "#size-cells") == 0 && len == 4) {
                size_cells = be32(value);
            } else if (depth == 2 && starts_with(node, "memory") && kstrcmp(pname, "reg") == 0 &&
                       len >= 4 * (address_cells + size_cells) && info.memory_size == 0) {
                info.memory_base = read_cells(value, address_cells);
                info.memory_size = read_cells(value + 4 * address_cells, size_cells);
            } else if (depth == 2 && kstrcmp(node, "chosen") == 0 &&
                       kstrcmp(pname, "bootargs") == 0) {
                size_t n = len < sizeof(info.bootargs) ? len : sizeof(info.bootargs) - 1;
                kmemcpy(info.bootargs, value, n);
                info.bootargs[n] = '\0';
            } else if (in_cpus_or_child && kstrcmp(pname, "timebase-frequency") == 0 &&
                       (len == 4 || len == 8)) {
                info.timebase_hz = read_cells(value, len / 4);
            }
        } else if (token == fdt_nop) {
            continue;
        } else if (token == fdt_end) {
            break;
        } else {
            return false;
        }
    }
    return true;
}
