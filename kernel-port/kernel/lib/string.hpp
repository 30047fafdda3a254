// Byte and C-string helpers of the kernel (lib/string.cpp). The mem* functions also back the
// calls the compiler emits on its own.
#pragma once

#include <stddef.h>
#include <string.h> // declarations only: memcpy, memmove, memset, memcmp (lib/mem.cpp)

inline void* kmemcpy(void* dst, const void* src, size_t n) {
    return memcpy(dst, src, n);
}
inline void* kmemset(void* dst, int c, size_t n) {
    return memset(dst, c, n);
}

// Length of the NUL-terminated `s`.
size_t kstrlen(const char* s);
// strcmp / strncmp semantics: <0, 0, >0.
int kstrcmp(const char* a, const char* b);
int kstrncmp(const char* a, const char* b, size_t n);
// Copies at most size-1 bytes of `src` and always terminates `dst` (size > 0). Returns the
// length of `src`, so a result >= size means it was truncated.
size_t kstrlcpy(char* dst, const char* src, size_t size);
