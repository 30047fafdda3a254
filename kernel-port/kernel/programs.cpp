#include "programs.hpp"

extern "C" const embedded_program embedded_programs[];
extern "C" const uint64_t embedded_program_count;

const embedded_program* programs_begin() {
    return embedded_programs;
}
const embedded_program* programs_end() {
    return embedded_programs + embedded_program_count;
}

const embedded_program* find_program(const char* path) {
    for (const embedded_program* p = programs_begin(); p != programs_end(); p++) {
        const char* a = p->path;
        const char* b = path;
        while (*a != '\0' && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b) {
            return p;
        }
    }
    return nullptr;
}
