// The virtio-mmio transport, modern layout (MMIO version 2): register offsets, status and
// feature bits. Virtio spec 1.1 §4.2.2 (register layout), §2.1 (status), §6 (reserved features).
// Where the transport is (QEMU virt: 8 of them at 0x10001000 + n * 0x1000) is the kernel's to
// know: it passes the base to ruprobes_agent_init. QEMU only offers version 2 with
// `-global virtio-mmio.force-legacy=false` (always passed by the project).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace virtio {

constexpr uint32_t mmio_magic = 0x7472'6976; // "virt", little-endian

// §4.2.2, table "MMIO Device Register Layout".
namespace reg {
constexpr uint32_t magic = 0x000;
constexpr uint32_t version = 0x004;
constexpr uint32_t device_id = 0x008;
constexpr uint32_t vendor_id = 0x00c;
constexpr uint32_t device_features = 0x010;
constexpr uint32_t device_features_sel = 0x014;
constexpr uint32_t driver_features = 0x020;
constexpr uint32_t driver_features_sel = 0x024;
constexpr uint32_t queue_sel = 0x030;
constexpr uint32_t queue_num_max = 0x034;
constexpr uint32_t queue_num = 0x038;
constexpr uint32_t queue_ready = 0x044;
constexpr uint32_t queue_notify = 0x050;
constexpr uint32_t interrupt_status = 0x060;
constexpr uint32_t interrupt_ack = 0x064;
constexpr uint32_t status = 0x070;
constexpr uint32_t queue_desc_low = 0x080;
constexpr uint32_t queue_desc_high = 0x084;
constexpr uint32_t queue_driver_low = 0x090; // the available ring
constexpr uint32_t queue_driver_high = 0x094;
constexpr uint32_t queue_device_low = 0x0a0; // the used ring
constexpr uint32_t queue_device_high = 0x0a4;
constexpr uint32_t config_generation = 0x0fc;
constexpr uint32_t config = 0x100;
} // namespace reg

// Device status bits, §2.1.
namespace status {
constexpr uint32_t acknowledge = 1;
constexpr uint32_t driver = 2;
constexpr uint32_t driver_ok = 4;
constexpr uint32_t features_ok = 8;
constexpr uint32_t needs_reset = 64;
constexpr uint32_t failed = 128;
} // namespace status

// InterruptStatus bits, §4.2.2.
constexpr uint32_t interrupt_used_buffer = 1;
constexpr uint32_t interrupt_config_change = 2;

// Feature bits: VIRTIO_F_VERSION_1 is bit 32 (§6), i.e. bit 0 of feature word 1.
constexpr uint64_t feature_version_1 = 1ull << 32;

// Device ids, §5.
constexpr uint32_t device_console = 3;

// One transport's registers.
class mmio_device {
public:
    mmio_device() = default;
    explicit mmio_device(uint64_t base) : base_(base) {}

    uint64_t base() const { return base_; }
    uint32_t read(uint32_t offset) const {
        return *reinterpret_cast<volatile uint32_t*>(base_ + offset);
    }
    void write(uint32_t offset, uint32_t value) const {
        *reinterpret_cast<volatile uint32_t*>(base_ + offset) = value;
    }
    void write64(uint32_t low_offset, uint64_t value) const {
        write(low_offset, static_cast<uint32_t>(value));
        write(low_offset + 4, static_cast<uint32_t>(value >> 32));
    }

private:
    uint64_t base_ = 0;
};

// Full memory barrier between the driver's ring writes and the device (and MMIO). GCC and Clang
// emit `fence iorw, iorw` for it on RISC-V (device I/O included), `mfence` on x86-64.
inline void memory_barrier() {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

} // namespace virtio
