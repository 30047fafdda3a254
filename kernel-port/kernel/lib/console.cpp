#include "lib/console.hpp"

#include "drivers/uart16550.hpp"

#include <stdint.h>

namespace {

void put_string(const char* s) {
    for (; *s != '\0'; s++) {
        if (*s == '\n') {
            uart16550::put('\r');
        }
        uart16550::put(*s);
    }
}

void put_number(uint64_t value, unsigned base, int width, char pad, bool negative) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    if (negative) {
        digits[n++] = '-';
    }
    for (int i = n; i < width; i++) {
        uart16550::put(pad);
    }
    while (n > 0) {
        uart16550::put(digits[--n]);
    }
}

} // namespace

void kvprintf(const char* fmt, va_list args) {
    for (const char* p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            if (*p == '\n') {
                uart16550::put('\r');
            }
            uart16550::put(*p);
            continue;
        }
        p++;
        bool left = false;
        if (*p == '-') {
            left = true;
            p++;
        }
        char pad = ' ';
        if (*p == '0') {
            pad = '0';
            p++;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9') {
            width = width * 10 + (*p++ - '0');
        }
        bool is_long = false;
        while (*p == 'l' || *p == 'z') {
            is_long = true;
            p++;
        }
        switch (*p) {
        case 's': {
            const char* s = va_arg(args, const char*);
            s = s != nullptr ? s : "(null)";
            int len = 0;
            while (s[len] != '\0') {
                len++;
            }
            for (int i = len; !left && i < width; i++) {
                uart16550::put(' ');
            }
            put_string(s);
            for (int i = len; left && i < width; i++) {
                uart16550::put(' ');
            }
            break;
        }
        case 'c':
            uart16550::put(static_cast<char>(va_arg(args, int)));
            break;
        case 'd':
        case 'i': {
            int64_t v = is_long ? va_arg(args, long) : va_arg(args, int);
            uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
            put_number(magnitude, 10, width, pad, v < 0);
            break;
        }
        case 'u':
            put_number(is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 10, width,
                       pad, false);
            break;
        case 'x':
            put_number(is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 16, width,
                       pad, false);
            break;
        case 'p':
            put_string("0x");
            put_number(reinterpret_cast<uintptr_t>(va_arg(args, void*)), 16, 16, '0', false);
            break;
        case '%':
            uart16550::put('%');
            break;
        case '\0':
            return;
        default:
            uart16550::put('%');
            uart16550::put(*p);
            break;
        }
    }
}

void kprintf(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    kvprintf(fmt, args);
    va_end(args);
}

void console_write(const char* data, unsigned long len) {
    for (unsigned long i = 0; i < len; i++) {
        if (data[i] == '\n') {
            uart16550::put('\r');
        }
        uart16550::put(data[i]);
    }
}
