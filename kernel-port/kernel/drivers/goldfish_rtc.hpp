// The Goldfish RTC of QEMU `virt` at 0x101000: the host's wall clock in ns since the epoch. QEMU
// keeps it on the host clock (`-rtc clock=host`, the default) also under `-icount`, where the
// guest's own timer runs at the instruction count's pace: the agent measures the host's lease on
// it and takes entropy for the boot id from it.
#pragma once

#include <stdint.h>

namespace goldfish_rtc {

// Nanoseconds since 1970 on the host's clock (0 if the device reads as absent).
uint64_t now_ns();

} // namespace goldfish_rtc
