#include "boot/command_line.hpp"

#include "lib/string.hpp"

namespace {

char original[512];
char buffer[512];
const char* flags[max_kernel_flags];
int flag_count = 0;
const char* commands[max_commands];
int commands_count = 0;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

// Splits buffer (already holding the text) in place.
void split() {
    char* p = buffer;
    while (*p != '\0') {
        char* segment = p;
        while (*p != '\0' && *p != ';') {
            p++;
        }
        if (*p == ';') {
            *p++ = '\0';
        }
        // Leading flags.
        char* s = segment;
        for (;;) {
            while (is_space(*s)) {
                s++;
            }
            if (kstrncmp(s, kernel_flag_prefix, kstrlen(kernel_flag_prefix)) != 0) {
                break;
            }
            char* word = s;
            while (*s != '\0' && !is_space(*s)) {
                s++;
            }
            if (*s != '\0') {
                *s++ = '\0';
            }
            if (flag_count < max_kernel_flags) {
                flags[flag_count++] = word;
            }
        }
        // The command: trimmed.
        char* end = s + kstrlen(s);
        while (end > s && is_space(end[-1])) {
            *--end = '\0';
        }
        if (*s != '\0' && commands_count < max_commands) {
            commands[commands_count++] = s;
        }
    }
}

} // namespace

void command_line_init(const char* bootargs) {
    flag_count = 0;
    commands_count = 0;
    kstrlcpy(original, bootargs, sizeof(original));
    kstrlcpy(buffer, bootargs, sizeof(buffer));
    split();
    bool blank = true;
    for (const char* c = original; *c != '\0'; c++) {
        blank &= is_space(*c);
    }
    if (blank) {
        kstrlcpy(buffer, default_commands, sizeof(buffer));
        split();
    }
}

bool kernel_flag(const char* name) {
    const size_t n = kstrlen(name);
    for (int i = 0; i < flag_count; i++) {
        if (kstrncmp(flags[i], name, n) == 0 && (flags[i][n] == '\0' || flags[i][n] == '=')) {
            return true;
        }
    }
    return false;
}

const char* kernel_flag_value(const char* name) {
    const size_t n = kstrlen(name);
    for (int i = 0; i < flag_count; i++) {
        if (kstrncmp(flags[i], name, n) == 0 && flags[i][n] == '=') {
            return flags[i] + n + 1;
        }
    }
    return nullptr;
}

int command_count() {
    return commands_count;
}

const char* command_at(int index) {
    return index >= 0 && index < commands_count ? commands[index] : nullptr;
}

const char* command_line() {
    return original;
}
