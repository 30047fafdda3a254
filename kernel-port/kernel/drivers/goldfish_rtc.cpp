#include "drivers/goldfish_rtc.hpp"

#include "mm/layout.hpp"

namespace goldfish_rtc {

namespace {

// Registers (QEMU hw/rtc/goldfish_rtc.c): reading TIME_LOW latches TIME_HIGH.
constexpr uint64_t time_low = 0x00;
constexpr uint64_t time_high = 0x04;

volatile uint32_t* reg(uint64_t offset) {
    return reinterpret_cast<volatile uint32_t*>(layout::goldfish_rtc + offset);
}

} // namespace

uint64_t now_ns() {
    uint64_t low = *reg(time_low);
    uint64_t high = *reg(time_high);
    return high << 32 | low;
}

} // namespace goldfish_rtc
