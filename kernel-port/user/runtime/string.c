// String and memory helpers of the user runtime (gcc may emit calls to memcpy/memset itself).
#include "ulib.h"

#pragma GCC optimize("no-tree-loop-distribute-patterns")

unsigned long strlen(const char* s) {
    unsigned long n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

int strcmp(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

long atol(const char* s) {
    long sign = 1;
    long v = 0;
    if (*s == '-') {
        sign = -1;
        s++;
    }
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
    }
    return sign * v;
}

void* memcpy(void* dst, const void* src, unsigned long n) {
    unsigned char* d = dst;
    const unsigned char* s = src;
    for (unsigned long i = 0; i < n; i++) {
        d[i] = s[i];
    }
    return dst;
}

void* memset(void* dst, int c, unsigned long n) {
    unsigned char* d = dst;
    for (unsigned long i = 0; i < n; i++) {
        d[i] = (unsigned char)c;
    }
    return dst;
}
