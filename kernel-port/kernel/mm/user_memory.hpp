// Copies between the kernel and a process's user window, through that process's page table
// (not the live one), so they work for any process: the current one in a system call, a stopped
// one for the debugger agent, the engine's port hooks.
#pragma once

#include "mm/page_table.hpp"

#include <stddef.h>
#include <stdint.h>

// System-call copies: honour the user's permissions (U+R to read, U+W to write). False when any
// byte of the range is unmapped or not permitted, and then nothing was copied (all or nothing).
bool copy_from_user(page_table_root pt, void* dst, uint64_t va, size_t len);
bool copy_to_user(page_table_root pt, uint64_t va, const void* src, size_t len);

// Copies a NUL-terminated string of at most `size` - 1 bytes into `dst`. Returns its length, or
// -1 when a byte is not readable or the string does not fit.
long copy_string_from_user(page_table_root pt, char* dst, uint64_t va, size_t size);

// Debugger / probe-engine access: any mapped user page (U set), whatever its R/W/X bits, so
// read-only text can be read and patched. Writes to executable pages are followed by fence.i.
// Each process owns private copies of all its pages (exec and fork copy, nothing is shared), so
// a write never reaches another process.
bool peek_user(page_table_root pt, void* dst, uint64_t va, size_t len);
bool poke_user(page_table_root pt, uint64_t va, const void* src, size_t len);
