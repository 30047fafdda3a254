#include "program_store.hpp"

#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>

namespace sim {

namespace {

constexpr size_t max_program_size = 64u << 20;
// Where a program's segments may go: the user window below the stack and the xol page
// (sim_kernel.hpp's layout), and how much memory they may ask for in all.
constexpr uint64_t segments_begin = 0x4000'0000;
constexpr uint64_t segments_end = 0x7f00'0000;
constexpr uint64_t max_segments_memory = 16u << 20;

template <typename T>
bool read_at(const std::vector<uint8_t>& bytes, uint64_t offset, T& out) {
    if (offset > bytes.size() || sizeof(T) > bytes.size() - offset) {
        return false;
    }
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

// Checks the header and every program header; fills entry and the text range.
const char* check_image(program_image& image) {
    Elf64_Ehdr eh;
    if (!read_at(image.bytes, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        return "not an ELF file";
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_RISCV || eh.e_type != ET_EXEC) {
        return "not a static little-endian RV64 executable";
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
        return "bad program header size";
    }
    uint64_t memory = 0;
    for (uint16_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (eh.e_phoff > image.bytes.size() ||
            !read_at(image.bytes, eh.e_phoff + uint64_t{i} * sizeof ph, ph)) {
            return "program headers outside the file";
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > image.bytes.size() ||
            ph.p_filesz > image.bytes.size() - ph.p_offset) {
            return "segment outside the file";
        }
        if (ph.p_vaddr < segments_begin || ph.p_vaddr > segments_end ||
            ph.p_memsz > segments_end - ph.p_vaddr) {
            return "segment outside the user window (0x40000000..0x7f000000)";
        }
        memory += ph.p_memsz;
        if (memory > max_segments_memory) {
            return "segments larger than 16 MiB";
        }
        if ((ph.p_flags & PF_X) != 0) {
            if (image.text_end == 0 || ph.p_vaddr < image.text_begin) {
                image.text_begin = ph.p_vaddr;
            }
            if (ph.p_vaddr + ph.p_memsz > image.text_end) {
                image.text_end = ph.p_vaddr + ph.p_memsz;
            }
        }
    }
    if (image.text_end == 0) {
        return "no executable segment";
    }
    image.entry = eh.e_entry;
    return nullptr;
}

template <typename F>
void for_each_load(const program_image& image, F f) {
    Elf64_Ehdr eh;
    read_at(image.bytes, 0, eh);
    for (uint16_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        read_at(image.bytes, eh.e_phoff + uint64_t{i} * sizeof ph, ph);
        if (ph.p_type == PT_LOAD && ph.p_memsz != 0) {
            f(ph);
        }
    }
}

} // namespace

const program_image* program_store::find(const std::string& path, std::string* why) {
    auto it = images_.find(path);
    if (it != images_.end()) {
        return &it->second;
    }
    const std::string prefix = "/bin/";
    const std::string name =
        path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0
            ? path.substr(prefix.size())
            : std::string();
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
        if (why != nullptr) {
            *why = "programs are named /bin/<name>";
        }
        return nullptr;
    }
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    if (!in) {
        if (why != nullptr) {
            *why = "no such program in " + dir_;
        }
        return nullptr;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    std::optional<program_image> image = parse(path, std::move(bytes), why);
    if (!image) {
        return nullptr;
    }
    return &images_.emplace(path, std::move(*image)).first->second;
}

std::optional<program_image> program_store::parse(const std::string& path,
                                                  std::vector<uint8_t> bytes, std::string* why) {
    program_image image;
    image.path = path;
    image.bytes = std::move(bytes);
    const char* bad =
        image.bytes.size() > max_program_size ? "larger than 64 MiB" : check_image(image);
    if (bad != nullptr) {
        if (why != nullptr) {
            *why = bad;
        }
        return std::nullopt;
    }
    return image;
}

bool program_store::read(const program_image& image, uint64_t addr, void* dst, size_t len) {
    bool done = false;
    for_each_load(image, [&](const Elf64_Phdr& ph) {
        if (!done && addr >= ph.p_vaddr && addr - ph.p_vaddr <= ph.p_filesz &&
            len <= ph.p_filesz - (addr - ph.p_vaddr)) {
            std::memcpy(dst, image.bytes.data() + ph.p_offset + (addr - ph.p_vaddr), len);
            done = true;
        }
    });
    return done;
}

const char* program_store::load(const program_image& image, address_space& as) {
    const char* why = nullptr;
    for_each_load(image, [&](const Elf64_Phdr& ph) {
        if (why != nullptr) {
            return;
        }
        const uint64_t page = address_space::page_size;
        const uint64_t base = ph.p_vaddr & ~(page - 1);
        const uint64_t end = (ph.p_vaddr + ph.p_memsz + page - 1) & ~(page - 1);
        const uint8_t perms = ((ph.p_flags & PF_R) != 0 ? perm::read : 0) |
                              ((ph.p_flags & PF_W) != 0 ? perm::write : 0) |
                              ((ph.p_flags & PF_X) != 0 ? perm::exec : 0);
        if (!as.map(base, end - base, perms)) {
            why = "segments overlap or are misplaced";
            return;
        }
        // The loader writes whatever the permissions: all bits.
        if (!as.write(ph.p_vaddr, image.bytes.data() + ph.p_offset, ph.p_filesz, 0)) {
            why = "segment does not fit its mapping";
        }
    });
    return why;
}

std::optional<uint64_t> program_store::symbol(const program_image& image, const std::string& name) {
    Elf64_Ehdr eh;
    read_at(image.bytes, 0, eh);
    for (uint16_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        if (!read_at(image.bytes, eh.e_shoff + uint64_t{i} * sizeof sh, sh) ||
            sh.sh_type != SHT_SYMTAB) {
            continue;
        }
        if (sh.sh_offset > image.bytes.size() || sh.sh_size > image.bytes.size() - sh.sh_offset) {
            return std::nullopt;
        }
        Elf64_Shdr strtab;
        if (!read_at(image.bytes, eh.e_shoff + uint64_t{sh.sh_link} * sizeof strtab, strtab)) {
            return std::nullopt;
        }
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            if (!read_at(image.bytes, sh.sh_offset + off, sym) || sym.st_name >= strtab.sh_size) {
                continue;
            }
            const uint64_t at = strtab.sh_offset + sym.st_name;
            if (at >= image.bytes.size()) {
                continue;
            }
            const char* s = reinterpret_cast<const char*>(image.bytes.data() + at);
            const size_t max = image.bytes.size() - at;
            if (strnlen(s, max) < max && name == s) {
                return sym.st_value;
            }
        }
    }
    return std::nullopt;
}

} // namespace sim
