// The platform timer: the `time` CSR and SBI set_timer drive the scheduler's tick.
#pragma once

#include <stdint.h>

#include "arch/riscv64/csr.hpp"

constexpr uint64_t timer_tick_ms = 10; // time slice of the round-robin scheduler

// Remembers the timer frequency (DTB timebase-frequency; 10 MHz on QEMU virt when 0), arms the
// first tick and enables timer interrupts in sie.
void timer_init(uint64_t timebase_hz);

// Handles a supervisor timer interrupt: arms the next tick.
void timer_interrupt();

// Ticks of the `time` CSR since reset, and conversions.
inline uint64_t timer_now() {
    return csr::read_time();
}
uint64_t timer_ticks_to_ns(uint64_t ticks);
uint64_t timer_ns_to_ticks(uint64_t ns);

// Timer interrupts taken since boot.
uint64_t timer_tick_count();
