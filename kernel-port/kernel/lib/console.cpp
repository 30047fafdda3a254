#include "lib/console.hpp"

#include "drivers/uart16550.hpp"

#include <stdint.h>

namespace {

// Where formatted characters go: the UART (with "\n" -> "\r\n") or a bounded buffer.
struct sink {
    char* buf = nullptr; // nullptr: the UART
    size_t size = 0;
    size_t length = 0; // characters produced (may exceed size - 1 for a buffer)

    void put(char c) {
        if (buf == nullptr) {
            if (c == '\n') {
                uart16550::put('\r');
            }
            uart16550::put(c);
        } else if (length + 1 < size) {
            buf[length] = c;
        }
        length++;
    }
};

void put_number(sink& out, uint64_t value, unsigned base, int width, char pad, bool negative) {
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
        out.put(pad);
    }
    while (n > 0) {
        out.put(digits[--n]);
    }
}

void format(sink& out, const char* fmt, va_list args) {
    for (const char* p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            out.put(*p);
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
                out.put(' ');
            }
            for (int i = 0; i < len; i++) {
                out.put(s[i]);
            }
            for (int i = len; left && i < width; i++) {
                out.put(' ');
            }
            break;
        }
        case 'c':
            out.put(static_cast<char>(va_arg(args, int)));
            break;
        case 'd':
        case 'i': {
            int64_t v = is_long ? va_arg(args, long) : va_arg(args, int);
            uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
            put_number(out, magnitude, 10, width, pad, v < 0);
            break;
        }
        case 'u':
            put_number(out, is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 10,
                       width, pad, false);
            break;
        case 'x':
            put_number(out, is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 16,
                       width, pad, false);
            break;
        case 'p':
            out.put('0');
            out.put('x');
            put_number(out, reinterpret_cast<uintptr_t>(va_arg(args, void*)), 16, 16, '0', false);
            break;
        case '%':
            out.put('%');
            break;
        case '\0':
            return;
        default:
            out.put('%');
            out.put(*p);
            break;
        }
    }
}

} // namespace

void kvprintf(const char* fmt, va_list args) {
    sink uart;
    format(uart, fmt, args);
}

void kprintf(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    kvprintf(fmt, args);
    va_end(args);
}

size_t ksnprintf(char* buf, size_t size, const char* fmt, ...) {
    sink out;
    out.buf = buf;
    out.size = size;
    va_list args;
    va_start(args, fmt);
    format(out, fmt, args);
    va_end(args);
    if (size > 0) {
        buf[out.length < size ? out.length : size - 1] = '\0';
    }
    return out.length;
}

void console_write(const char* data, unsigned long len) {
    for (unsigned long i = 0; i < len; i++) {
        if (data[i] == '\n') {
            uart16550::put('\r');
        }
        uart16550::put(data[i]);
    }
}
