// The symbols of one guest program, read from its host copy (an RV64 ELF with debug info) with
// elfutils: function symbols from .symtab, and the DWARF line table for `file:line`. Everything
// is read once at load; the object is immutable afterwards.
#pragma once

#include <tl/expected.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ruprobes::symbols {

// Why a lookup failed; `message` is for people and names what was not found.
struct symbol_error {
    enum class kind {
        unknown_program, // no host copy for that guest path
        bad_file,        // not readable, not an ELF, or not RISC-V
        unknown_symbol,  // no function of that name
        no_symbol,       // no function contains that address
        unknown_file,    // `file:line`: no source file of that name in the line table
        unknown_line,    // `file:line`: the file has no code at or after that line
        bad_location,    // `file:line` not of that form
    };
    kind code;
    std::string message;
};

// A short stable name for `k` ("unknown_symbol", ...).
const char* error_kind_name(symbol_error::kind k);

// A T, or why there is none: the daemon's one result type (tl::expected).
template <typename T>
using lookup = tl::expected<T, symbol_error>;

struct function_symbol {
    std::string name;
    uint64_t address = 0; // ELF virtual address
    uint64_t size = 0;    // 0 when the symbol table does not say
    bool global = false;
};

struct symbolized {
    std::string name;
    uint64_t offset = 0; // address - function address
    uint64_t function_address = 0;
};

struct line_location {
    uint64_t address = 0;
    std::string file; // as the line table names it (often an absolute path)
    int line = 0;     // the line that has code: the asked one, or the next one with code
};

class program_symbols {
public:
    // Reads `path`. Fails with bad_file when it cannot be read or is not an ELF for RISC-V.
    static lookup<std::shared_ptr<const program_symbols>> load(const std::string& path);

    // The function named `name` (a global one when several share the name).
    lookup<function_symbol> find_function(std::string_view name) const;
    // The function that contains `address`, with the offset into it.
    lookup<symbolized> symbolize(uint64_t address) const;
    // The address of `line` in the source file `file` (matched as the full path or as a
    // trailing path component: "fib.c", "programs/fib.c"): the lowest statement address of
    // that line, or of the next line with code (as gdb does for lines without code).
    lookup<line_location> find_line(std::string_view file, int line) const;
    // Parses "file:line" and calls find_line.
    lookup<line_location> find_location(std::string_view file_colon_line) const;

    // The program's bytes from `address` to the end of the executable section holding it
    // (what the guest maps as text); empty when `address` is in no executable section.
    std::span<const uint8_t> text_at(uint64_t address) const;

    // Every executable section: (address, bytes).
    const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& text_sections() const {
        return text_;
    }

    const std::vector<function_symbol>& functions() const { return functions_; }
    const std::string& path() const { return path_; }
    uint64_t entry() const { return entry_; }
    bool has_line_table() const { return !lines_.empty(); }

private:
    struct line_row {
        uint64_t address;
        int line;
        uint32_t file; // index into files_
        bool is_stmt;
    };

    program_symbols() = default;

    std::string path_;
    uint64_t entry_ = 0;
    std::vector<function_symbol> functions_; // sorted by address
    std::vector<std::string> files_;
    std::vector<line_row> lines_;
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> text_; // executable sections
};

} // namespace ruprobes::symbols
