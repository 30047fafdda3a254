// Loads a static RISC-V ELF64 executable into a user page table (ELF-64 Object File Format 1.5;
// RISC-V psABI chapter 8 for EM_RISCV). Only PT_LOAD segments matter; each is mapped with the
// permissions its p_flags ask for, plus U.
#pragma once

#include "mm/page_table.hpp"

#include <stddef.h>
#include <stdint.h>

struct loaded_image {
    uint64_t entry = 0;
    uint64_t text_begin = 0; // lowest and highest address of the executable segments
    uint64_t text_end = 0;
    uint64_t image_end = 0; // end of the highest PT_LOAD segment (data and bss included)
};

// Maps and fills every PT_LOAD segment of `image` into `pt`. Returns nullptr on success, or a
// short reason ("bad magic", "segment outside the user window", "out of memory", ...); on
// failure `pt` may hold some pages and the caller destroys it.
const char* load_elf(page_table_root pt, const uint8_t* image, size_t size, loaded_image& out);

// The link-time range [begin, end) of the executable PT_LOAD segments of `image`. False when the
// image is not a valid executable.
bool elf_text_range(const uint8_t* image, size_t size, uint64_t& begin, uint64_t& end);

// The `len` file-backed bytes at link-time address `va` of `image`, in place (inside one PT_LOAD
// segment's file bytes), or nullptr when the range is not there.
const uint8_t* elf_file_bytes(const uint8_t* image, size_t size, uint64_t va, size_t len);

// Copies `len` bytes of the file-backed contents at link-time address `va` of `image` (inside
// one PT_LOAD segment's file bytes). False when the range is not there.
bool elf_read(const uint8_t* image, size_t size, uint64_t va, void* dst, size_t len);

// The value of the symbol `name` in the image's .symtab (function or object), or 0.
uint64_t elf_symbol(const uint8_t* image, size_t size, const char* name);
