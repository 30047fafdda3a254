// Formatted output of the user runtime: printf formats into a buffer and writes it with one
// system call, so lines of different processes do not interleave mid-line.
#include "ulib.h"

#include <stdarg.h>

struct out {
    char buf[256];
    unsigned long n;
};

static void put(struct out* o, char c) {
    if (o->n < sizeof(o->buf)) {
        o->buf[o->n++] = c;
    }
}

static void put_number(struct out* o, unsigned long v, unsigned base, int width, char pad,
                       int negative) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (negative) {
        digits[n++] = '-';
    }
    for (int i = n; i < width; i++) {
        put(o, pad);
    }
    while (n > 0) {
        put(o, digits[--n]);
    }
}

int printf(const char* fmt, ...) {
    struct out o;
    o.n = 0;
    va_list args;
    va_start(args, fmt);
    for (const char* p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        char pad = ' ';
        if (*p == '0') {
            pad = '0';
            p++;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9') {
            width = width * 10 + (*p++ - '0');
        }
        int is_long = 0;
        while (*p == 'l' || *p == 'z') {
            is_long = 1;
            p++;
        }
        switch (*p) {
        case 's': {
            const char* s = va_arg(args, const char*);
            for (s = s ? s : "(null)"; *s != '\0'; s++) {
                put(&o, *s);
            }
            break;
        }
        case 'c':
            put(&o, (char)va_arg(args, int));
            break;
        case 'd':
        case 'i': {
            long v = is_long ? va_arg(args, long) : va_arg(args, int);
            put_number(&o, v < 0 ? 0ul - (unsigned long)v : (unsigned long)v, 10, width, pad,
                       v < 0);
            break;
        }
        case 'u':
            put_number(&o, is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 10,
                       width, pad, 0);
            break;
        case 'x':
            put_number(&o, is_long ? va_arg(args, unsigned long) : va_arg(args, unsigned), 16,
                       width, pad, 0);
            break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_number(&o, (unsigned long)va_arg(args, void*), 16, 1, '0', 0);
            break;
        case '\0':
            p--;
            break;
        default:
            put(&o, *p);
            break;
        }
    }
    va_end(args);
    write(1, o.buf, o.n);
    return (int)o.n;
}

long puts(const char* s) {
    long n = write(1, s, strlen(s));
    if (n < 0) {
        return n;
    }
    return n + write(1, "\n", 1);
}
