// The programs the simulated kernel can run: the static RISC-V ELF executables of the guest build
// (build/guest/user/<name>), known inside as /bin/<name>, read from the host directory given at
// start and kept in memory once read. The engine's os_program_get hook and exec read them here.
#pragma once

#include "address_space.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sim {

// A program image that passed the checks exec makes (ELF64, little-endian, RISC-V, ET_EXEC,
// loadable segments inside the file).
struct program_image {
    std::string path;           // "/bin/fib"
    std::vector<uint8_t> bytes; // the whole file
    uint64_t entry = 0;
    uint64_t text_begin = 0; // the executable PT_LOAD range (what os_program_get reports)
    uint64_t text_end = 0;
};

class program_store {
public:
    explicit program_store(std::string host_dir) : dir_(std::move(host_dir)) {}

    // The program `path` ("/bin/<name>"), read from the host directory on first use; nullptr
    // when there is no such file or it is not a program this kernel runs (`why` says which).
    const program_image* find(const std::string& path, std::string* why = nullptr);

    // Checks `bytes` as a program this kernel runs and makes it the image of `path`; nullopt
    // when it is not (`why` says why). Every offset in the file is checked before use.
    static std::optional<program_image> parse(const std::string& path, std::vector<uint8_t> bytes,
                                              std::string* why = nullptr);

    // Reads `len` bytes of `image` at link-time address `addr` (inside one segment's file bytes).
    static bool read(const program_image& image, uint64_t addr, void* dst, size_t len);

    // Maps every PT_LOAD segment of `image` into `as` with the permissions its flags ask for.
    // Returns nullptr or why it failed.
    static const char* load(const program_image& image, address_space& as);

    // The address of symbol `name` in `image` (its .symtab), for tests and tools.
    static std::optional<uint64_t> symbol(const program_image& image, const std::string& name);

    const std::string& host_dir() const { return dir_; }

private:
    std::string dir_;
    std::map<std::string, program_image> images_;
};

} // namespace sim
