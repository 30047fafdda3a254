// The host copies of the guest's programs: guest path "/bin/<name>" → <dir>/<name>, loaded on
// first use and loaded again when the file changed (a rebuilt program).
#pragma once

#include "symbols/program_symbols.hpp"

#include <map>
#include <string>

namespace ruprobes::symbols {

class symbol_store {
public:
    // `dir`: where the host copies are (build/guest/user, or the daemon's --symbols DIR).
    explicit symbol_store(std::string dir);

    // The symbols of the guest program `guest_path` ("/bin/fib"; "fib" is accepted too).
    // Fails with unknown_program when there is no host copy, bad_file when it is not usable.
    lookup<std::shared_ptr<const program_symbols>> program(std::string_view guest_path);

    const std::string& dir() const { return dir_; }

private:
    struct entry {
        std::shared_ptr<const program_symbols> symbols;
        int64_t mtime_ns = 0;
        int64_t size = 0;
    };
    std::string dir_;
    std::map<std::string, entry> cache_;
};

} // namespace ruprobes::symbols
