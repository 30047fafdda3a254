// The user programs embedded in the kernel image (kernel-port/user, built into
// build/guest/user/<name> and linked in by embedded_programs.S).
#pragma once

#include <stddef.h>
#include <stdint.h>

struct embedded_program {
    const char* path; // "/bin/<name>"
    const uint8_t* begin;
    const uint8_t* end;

    size_t size() const { return static_cast<size_t>(end - begin); }
};

// The program table, in build order.
const embedded_program* programs_begin();
const embedded_program* programs_end();

// The program known as `path`, or nullptr.
const embedded_program* find_program(const char* path);
