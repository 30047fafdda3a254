// The few string helpers the agent needs (it links no C library): lengths, bounded copies, and a
// fixed-size line builder for its log messages (os_agent_log).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace agent {

inline size_t str_length(const char* s) {
    size_t n = 0;
    while (s[n] != 0) {
        n++;
    }
    return n;
}

// Copies `from` into to[0..size), always NUL-terminated (truncated when it does not fit).
inline void str_copy(char* to, const char* from, size_t size) {
    if (size == 0) {
        return;
    }
    size_t i = 0;
    for (; i + 1 < size && from[i] != 0; i++) {
        to[i] = from[i];
    }
    to[i] = 0;
}

// One log line, built piece by piece; what does not fit is cut off.
class log_line {
public:
    log_line& text(const char* s) {
        while (*s != 0) {
            put(*s++);
        }
        return *this;
    }
    log_line& dec(uint64_t v) {
        char digits[20];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n > 0) {
            put(digits[--n]);
        }
        return *this;
    }
    log_line& hex(uint64_t v) {
        char digits[16];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v & 0xf];
            v >>= 4;
        } while (v != 0);
        while (n > 0) {
            put(digits[--n]);
        }
        return *this;
    }
    const char* c_str() const { return buf_; }

private:
    void put(char c) {
        if (len_ + 1 < sizeof buf_) {
            buf_[len_++] = c;
            buf_[len_] = 0;
        }
    }
    char buf_[160] = {};
    size_t len_ = 0;
};

} // namespace agent
