// Guest path → host copy, with a cache that notices rebuilt files.
#include "symbols/symbol_store.hpp"

#include <sys/stat.h>

namespace ruprobes::symbols {

symbol_store::symbol_store(std::string dir) : dir_(std::move(dir)) {}

lookup<std::shared_ptr<const program_symbols>> symbol_store::program(std::string_view guest_path) {
    using kind = symbol_error::kind;
    std::string_view name = guest_path;
    if (name.starts_with("/bin/"))
        name.remove_prefix(5);
    // Only plain names: a guest path must not reach outside the directory.
    if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..")
        return tl::unexpected(symbol_error{
            kind::unknown_program, "'" + std::string(guest_path) +
                                       "' is not a guest program path (expected /bin/<name>)"});
    std::string path = dir_ + "/" + std::string(name);
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return tl::unexpected(
            symbol_error{kind::unknown_program, "no host copy of '" + std::string(guest_path) +
                                                    "' (looked for " + path + ")"});
    int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    auto it = cache_.find(path);
    if (it != cache_.end() && it->second.mtime_ns == mtime && it->second.size == st.st_size)
        return it->second.symbols;
    auto loaded = program_symbols::load(path);
    if (!loaded)
        return tl::unexpected(loaded.error());
    auto symbols = *loaded;
    cache_[path] = entry{symbols, mtime, static_cast<int64_t>(st.st_size)};
    return symbols;
}

} // namespace ruprobes::symbols
