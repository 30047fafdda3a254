#include "arch/riscv64/timer.hpp"

#include "arch/riscv64/csr.hpp"
#include "arch/riscv64/hart.hpp"
#include "arch/riscv64/sbi.hpp"

namespace {
uint64_t hz = 10'000'000;
uint64_t ticks_per_slice = 100'000;
uint64_t interrupts = 0;
} // namespace

uint64_t timer_ns_per_tick = 100;

void timer_init(uint64_t timebase_hz) {
    if (timebase_hz != 0) {
        hz = timebase_hz;
    }
    timer_ns_per_tick = 1'000'000'000 % hz == 0 ? 1'000'000'000 / hz : 0;
    ticks_per_slice = hz / 1000 * timer_tick_ms;
    timer_start_hart();
}

void timer_start_hart() {
    sbi::set_timer(csr::read_time() + ticks_per_slice);
    csr::set_sie(csr::sie_stie);
}

void timer_interrupt() {
    interrupts++;
    this_hart()->timer_interrupts++;
    sbi::set_timer(csr::read_time() + ticks_per_slice);
}

uint64_t timer_ticks_to_ns_general(uint64_t ticks) {
    // ticks = q * hz + r: q * 1e9 + r * 1e9 / hz (== ticks * (1e9 / hz) when hz divides 1e9).
    return ticks / hz * 1'000'000'000 + (ticks % hz) * 1'000'000'000 / hz;
}

uint64_t timer_ns_to_ticks(uint64_t ns) {
    return ns / 1'000'000'000 * hz + (ns % 1'000'000'000) * hz / 1'000'000'000;
}

uint64_t timer_tick_count() {
    return interrupts;
}
