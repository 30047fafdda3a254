// Kernel log output: formatted text to the UART console.
#pragma once

#include <stdarg.h>

// printf-style output to the console. Supports %s %c %d %i %u %x %p %% with the l and z length
// modifiers, a field width, zero padding (e.g. %016lx) and left alignment of strings (%-8s).
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list args);

// Writes `len` raw bytes (a user program's output); "\n" becomes "\r\n".
void console_write(const char* data, unsigned long len);
