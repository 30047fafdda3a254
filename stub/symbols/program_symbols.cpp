// ELF symbol table (libelf) and DWARF line table (libdw) of one guest program.
#include "symbols/program_symbols.hpp"

#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <unistd.h>

namespace ruprobes::symbols {

namespace {

tl::unexpected<symbol_error> make_error(symbol_error::kind k, std::string message) {
    return tl::unexpected(symbol_error{k, std::move(message)});
}

// Closes what load() opened, whichever way it leaves.
struct elf_handles {
    int fd = -1;
    Elf* elf = nullptr;
    Dwarf* dwarf = nullptr;
    ~elf_handles() {
        if (dwarf)
            dwarf_end(dwarf);
        if (elf)
            elf_end(elf);
        if (fd >= 0)
            close(fd);
    }
};

bool ends_with_component(std::string_view path, std::string_view want) {
    if (path == want)
        return true;
    if (path.size() <= want.size())
        return false;
    return path.substr(path.size() - want.size()) == want &&
           path[path.size() - want.size() - 1] == '/';
}

} // namespace

const char* error_kind_name(symbol_error::kind k) {
    switch (k) {
    case symbol_error::kind::unknown_program:
        return "unknown_program";
    case symbol_error::kind::bad_file:
        return "bad_file";
    case symbol_error::kind::unknown_symbol:
        return "unknown_symbol";
    case symbol_error::kind::no_symbol:
        return "no_symbol";
    case symbol_error::kind::unknown_file:
        return "unknown_file";
    case symbol_error::kind::unknown_line:
        return "unknown_line";
    case symbol_error::kind::bad_location:
        return "bad_location";
    }
    return "unknown";
}

lookup<std::shared_ptr<const program_symbols>> program_symbols::load(const std::string& path) {
    using kind = symbol_error::kind;
    elf_version(EV_CURRENT);
    elf_handles h;
    h.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (h.fd < 0)
        return make_error(kind::bad_file, path + ": " + std::strerror(errno));
    h.elf = elf_begin(h.fd, ELF_C_READ, nullptr);
    if (!h.elf || elf_kind(h.elf) != ELF_K_ELF)
        return make_error(kind::bad_file, path + ": not an ELF file");
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(h.elf, &ehdr))
        return make_error(kind::bad_file, path + ": unreadable ELF header");
    if (ehdr.e_machine != EM_RISCV || ehdr.e_ident[EI_CLASS] != ELFCLASS64)
        return make_error(kind::bad_file, path + ": not a RISC-V 64-bit ELF file");

    std::shared_ptr<program_symbols> out(new program_symbols());
    out->path_ = path;
    out->entry_ = ehdr.e_entry;

    // Function symbols (ELF gABI, "Symbol Table": STT_FUNC entries of SHT_SYMTAB).
    for (Elf_Scn* scn = elf_nextscn(h.elf, nullptr); scn; scn = elf_nextscn(h.elf, scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr))
            continue;
        if (shdr.sh_type == SHT_PROGBITS && (shdr.sh_flags & SHF_EXECINSTR) &&
            (shdr.sh_flags & SHF_ALLOC)) {
            if (Elf_Data* text = elf_getdata(scn, nullptr); text && text->d_buf) {
                auto* bytes = static_cast<const uint8_t*>(text->d_buf);
                out->text_.emplace_back(shdr.sh_addr,
                                        std::vector<uint8_t>(bytes, bytes + text->d_size));
            }
            continue;
        }
        if (shdr.sh_type != SHT_SYMTAB || shdr.sh_entsize == 0)
            continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        if (!data)
            continue;
        std::size_t count = shdr.sh_size / shdr.sh_entsize;
        for (std::size_t i = 0; i < count; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym))
                continue;
            if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
                continue;
            const char* name = elf_strptr(h.elf, shdr.sh_link, sym.st_name);
            if (!name || !*name)
                continue;
            out->functions_.push_back(
                {name, sym.st_value, sym.st_size, GELF_ST_BIND(sym.st_info) == STB_GLOBAL});
        }
    }
    std::sort(out->functions_.begin(), out->functions_.end(),
              [](const function_symbol& a, const function_symbol& b) {
                  return a.address != b.address ? a.address < b.address : a.global > b.global;
              });

    // Line table (DWARF 5 §6.2), every compilation unit. No debug info is not an error: only
    // file:line lookups fail then.
    h.dwarf = dwarf_begin_elf(h.elf, DWARF_C_READ, nullptr);
    if (h.dwarf) {
        std::map<std::string, uint32_t> file_index;
        Dwarf_Off offset = 0, next = 0;
        size_t header_size = 0;
        while (dwarf_nextcu(h.dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
            Dwarf_Die cu;
            Dwarf_Lines* lines = nullptr;
            size_t nlines = 0;
            if (dwarf_offdie(h.dwarf, offset + header_size, &cu) &&
                dwarf_getsrclines(&cu, &lines, &nlines) == 0) {
                for (size_t i = 0; i < nlines; i++) {
                    Dwarf_Line* line = dwarf_onesrcline(lines, i);
                    Dwarf_Addr addr = 0;
                    int lineno = 0;
                    bool stmt = false, end = false;
                    if (!line || dwarf_lineaddr(line, &addr) != 0 ||
                        dwarf_lineno(line, &lineno) != 0)
                        continue;
                    dwarf_linebeginstatement(line, &stmt);
                    dwarf_lineendsequence(line, &end);
                    const char* src = dwarf_linesrc(line, nullptr, nullptr);
                    // Rows of sections the linker discarded (--gc-sections) remain in the
                    // table at address 0: keep only code the program has.
                    if (end || !src || lineno <= 0 || out->text_at(addr).empty())
                        continue;
                    auto [it, inserted] =
                        file_index.try_emplace(src, static_cast<uint32_t>(out->files_.size()));
                    if (inserted)
                        out->files_.push_back(src);
                    out->lines_.push_back({addr, lineno, it->second, stmt});
                }
            }
            offset = next;
        }
    }
    return std::shared_ptr<const program_symbols>(std::move(out));
}

lookup<function_symbol> program_symbols::find_function(std::string_view name) const {
    const function_symbol* found = nullptr;
    for (const function_symbol& f : functions_) {
        if (f.name != name)
            continue;
        if (!found || (f.global && !found->global))
            found = &f;
    }
    if (!found)
        return make_error(symbol_error::kind::unknown_symbol,
                          "no function '" + std::string(name) + "' in " + path_);
    return *found;
}

lookup<symbolized> program_symbols::symbolize(uint64_t address) const {
    // The last function starting at or below `address`.
    auto it = std::upper_bound(functions_.begin(), functions_.end(), address,
                               [](uint64_t a, const function_symbol& f) { return a < f.address; });
    while (it != functions_.begin()) {
        --it;
        uint64_t end = it->size ? it->address + it->size : 0;
        if (!it->size) {
            // Unsized (assembly) symbol: it extends to the next function.
            auto following = std::next(it);
            while (following != functions_.end() && following->address == it->address)
                ++following;
            end = following == functions_.end() ? it->address + 1 : following->address;
        }
        if (address < end)
            return symbolized{it->name, address - it->address, it->address};
        if (it->size)
            break; // a sized function that ends before `address`: nothing contains it
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(address));
    return make_error(symbol_error::kind::no_symbol,
                      std::string("no function contains ") + buf + " in " + path_);
}

lookup<line_location> program_symbols::find_line(std::string_view file, int line) const {
    std::vector<uint32_t> matching;
    for (uint32_t i = 0; i < files_.size(); i++) {
        if (ends_with_component(files_[i], file))
            matching.push_back(i);
    }
    if (matching.empty())
        return make_error(symbol_error::kind::unknown_file,
                          "no source file '" + std::string(file) + "' in the line table of " +
                              path_ + (lines_.empty() ? " (it has no debug info)" : ""));
    // The best line: exactly `line`, else the smallest line after it that has code.
    int best_line = 0;
    for (const line_row& row : lines_) {
        if (!row.is_stmt || row.line < line ||
            std::find(matching.begin(), matching.end(), row.file) == matching.end())
            continue;
        if (best_line == 0 || row.line < best_line)
            best_line = row.line;
    }
    if (best_line == 0)
        return make_error(symbol_error::kind::unknown_line,
                          "no code at or after line " + std::to_string(line) + " of '" +
                              std::string(file) + "' in " + path_);
    const line_row* best = nullptr;
    for (const line_row& row : lines_) {
        if (row.is_stmt && row.line == best_line &&
            std::find(matching.begin(), matching.end(), row.file) != matching.end() &&
            (!best || row.address < best->address))
            best = &row;
    }
    return line_location{best->address, files_[best->file], best->line};
}

std::span<const uint8_t> program_symbols::text_at(uint64_t address) const {
    for (const auto& [base, bytes] : text_) {
        if (address >= base && address - base < bytes.size())
            return std::span<const uint8_t>(bytes).subspan(address - base);
    }
    return {};
}

lookup<line_location> program_symbols::find_location(std::string_view spec) const {
    std::size_t colon = spec.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 >= spec.size())
        return make_error(symbol_error::kind::bad_location,
                          "'" + std::string(spec) + "' is not of the form file:line");
    int line = 0;
    for (char c : spec.substr(colon + 1)) {
        if (c < '0' || c > '9' || line > 100000000)
            return make_error(symbol_error::kind::bad_location,
                              "'" + std::string(spec) + "': the line is not a positive number");
        line = line * 10 + (c - '0');
    }
    if (line <= 0)
        return make_error(symbol_error::kind::bad_location,
                          "'" + std::string(spec) + "': the line is not a positive number");
    return find_line(spec.substr(0, colon), line);
}

} // namespace ruprobes::symbols
