// The platform timer: the `time` CSR and SBI set_timer drive the scheduler's tick.
#pragma once

#include <stdint.h>

#include "arch/riscv64/csr.hpp"

constexpr uint64_t timer_tick_ms = 10; // time slice of the round-robin scheduler

// Remembers the timer frequency (DTB timebase-frequency; 10 MHz on QEMU virt when 0), arms the
// first tick and enables timer interrupts in sie (timer_start_hart on the boot hart).
void timer_init(uint64_t timebase_hz);
// The same for another hart, after timer_init (SBI set_timer and sie are per hart).
void timer_start_hart();

// Handles a supervisor timer interrupt: arms the next tick (of this hart).
void timer_interrupt();

// Ticks of the `time` CSR since reset, and conversions.
inline uint64_t timer_now() {
    return csr::read_time();
}
// 1e9 / hz when hz divides 1e9 (10 MHz on QEMU virt: 100), else 0 (set by timer_init). Then
// ticks * timer_ns_per_tick is exactly the general conversion, in one multiplication: inline, as
// the probe hit path stamps every hit (os_time_ns).
extern uint64_t timer_ns_per_tick;
uint64_t timer_ticks_to_ns_general(uint64_t ticks);
inline uint64_t timer_ticks_to_ns(uint64_t ticks) {
    const uint64_t per_tick = timer_ns_per_tick;
    return per_tick != 0 ? ticks * per_tick : timer_ticks_to_ns_general(ticks);
}
uint64_t timer_ns_to_ticks(uint64_t ns);

// Timer interrupts taken since boot, by every hart.
uint64_t timer_tick_count();
