#include "drivers/uart16550.hpp"

#include <stdint.h>

namespace uart16550 {

namespace {
volatile uint8_t* const base = reinterpret_cast<volatile uint8_t*>(0x10000000);
constexpr int reg_thr = 0;              // transmit holding register
constexpr int reg_lsr = 5;              // line status register
constexpr uint8_t lsr_thr_empty = 0x20; // THR can take a byte
} // namespace

void put(char c) {
    while ((base[reg_lsr] & lsr_thr_empty) == 0) {
    }
    base[reg_thr] = static_cast<uint8_t>(c);
}

} // namespace uart16550
