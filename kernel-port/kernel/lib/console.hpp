// Kernel log output: formatted text to the UART console.
#pragma once

#include <stdarg.h>
#include <stddef.h>

// printf-style output to the console. Supports %s %c %d %i %u %x %p %% with the l and z length
// modifiers, a field width, zero padding (e.g. %016lx) and left alignment of strings (%-8s).
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list args);

// The same formatting into `buf` (always NUL-terminated when size > 0). Returns the length the
// whole output would have, so a result >= size means it was truncated.
size_t ksnprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Writes `len` raw bytes (a user program's output); "\n" becomes "\r\n".
void console_write(const char* data, unsigned long len);
