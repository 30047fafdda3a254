// Kernel log output: formatted text to the UART console.
#pragma once

#include <stdarg.h>

// printf-style output to the console. Supports %s %c %d %i %u %x %p %% with the l and z length
// modifiers and a field width / zero padding (e.g. %016lx).
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list args);
