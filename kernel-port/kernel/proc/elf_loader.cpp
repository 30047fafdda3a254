#include "proc/elf_loader.hpp"

#include "lib/string.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/layout.hpp"

namespace {

// ELF-64 Object File Format v1.5: file header (§3) and program header (§6).
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint64_t shoff;
    uint32_t flags;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
    uint16_t shentsize;
    uint16_t shnum;
    uint16_t shstrndx;
};

struct elf64_phdr {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
};

struct elf64_shdr {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t addralign;
    uint64_t entsize;
};

struct elf64_sym {
    uint32_t name;
    uint8_t info;
    uint8_t other;
    uint16_t shndx;
    uint64_t value;
    uint64_t size;
};

constexpr uint32_t sht_symtab = 2;
constexpr uint16_t et_exec = 2;
constexpr uint16_t em_riscv = 243;
constexpr uint32_t pt_load = 1;
constexpr uint32_t pf_x = 1, pf_w = 2, pf_r = 4;

// Validates the file header and the program header table; nullptr or the reason.
const char* check_header(const uint8_t* image, size_t size, elf64_ehdr& eh) {
    if (size < sizeof(elf64_ehdr)) {
        return "truncated header";
    }
    kmemcpy(&eh, image, sizeof(eh));
    if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F') {
        return "bad magic";
    }
    if (eh.ident[4] != 2 /* ELFCLASS64 */ || eh.ident[5] != 1 /* little-endian */) {
        return "not ELF64 little-endian";
    }
    if (eh.type != et_exec || eh.machine != em_riscv) {
        return "not a RISC-V executable";
    }
    if (eh.phentsize != sizeof(elf64_phdr) || eh.phoff > size ||
        eh.phnum > (size - eh.phoff) / sizeof(elf64_phdr)) {
        return "bad program headers";
    }
    return nullptr;
}

elf64_phdr program_header(const uint8_t* image, const elf64_ehdr& eh, uint16_t i) {
    elf64_phdr ph;
    kmemcpy(&ph, image + eh.phoff + i * sizeof(elf64_phdr), sizeof(ph));
    return ph;
}

uint64_t page_flags(uint32_t p_flags) {
    uint64_t f = pte::u;
    f |= (p_flags & pf_r) != 0 ? pte::r : 0;
    f |= (p_flags & pf_w) != 0 ? pte::w : 0;
    f |= (p_flags & pf_x) != 0 ? pte::x : 0;
    return f;
}

// Maps [va, va + memsz) (fresh zeroed frames, or adds permissions to pages a previous segment
// already mapped) and copies `filesz` bytes from `data`.
const char* load_segment(page_table_root pt, const elf64_phdr& ph, const uint8_t* data) {
    const uint64_t flags = page_flags(ph.flags);
    for (uint64_t page = layout::page_round_down(ph.vaddr); page < ph.vaddr + ph.memsz;
         page += layout::page_size) {
        uint64_t* slot = find_pte(pt, page);
        if (slot != nullptr) {
            *slot |= flags;
            continue;
        }
        void* frame = alloc_frame();
        if (frame == nullptr) {
            return "out of memory";
        }
        if (!map_page(pt, page, reinterpret_cast<uint64_t>(frame), flags)) {
            free_frame(frame);
            return "out of memory";
        }
    }
    // Copy through the physical frames (the segment may be read-only for the user).
    for (uint64_t done = 0; done < ph.filesz;) {
        const uint64_t va = ph.vaddr + done;
        const uint64_t* slot = find_pte(pt, va);
        const uint64_t in_page = va & (layout::page_size - 1);
        uint64_t n = layout::page_size - in_page;
        n = n < ph.filesz - done ? n : ph.filesz - done;
        kmemcpy(reinterpret_cast<void*>(pte::to_pa(*slot) + in_page), data + done, n);
        done += n;
    }
    return nullptr;
}

} // namespace

const char* load_elf(page_table_root pt, const uint8_t* image, size_t size, loaded_image& out) {
    elf64_ehdr eh;
    if (const char* why = check_header(image, size, eh)) {
        return why;
    }
    out = loaded_image{};
    out.entry = eh.entry;
    bool loaded_any = false;
    for (uint16_t i = 0; i < eh.phnum; i++) {
        const elf64_phdr ph = program_header(image, eh, i);
        if (ph.type != pt_load || ph.memsz == 0) {
            continue;
        }
        if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset) {
            return "segment outside the file";
        }
        if (!layout::in_user_window(ph.vaddr, ph.memsz) ||
            ph.vaddr + ph.memsz > layout::user_stack_bottom) {
            return "segment outside the user window";
        }
        if (const char* why = load_segment(pt, ph, image + ph.offset)) {
            return why;
        }
        if (ph.vaddr + ph.memsz > out.image_end) {
            out.image_end = ph.vaddr + ph.memsz;
        }
        if ((ph.flags & pf_x) != 0) {
            if (out.text_begin == 0 || ph.vaddr < out.text_begin) {
                out.text_begin = ph.vaddr;
            }
            if (ph.vaddr + ph.memsz > out.text_end) {
                out.text_end = ph.vaddr + ph.memsz;
            }
        }
        loaded_any = true;
    }
    if (!loaded_any || out.entry < out.text_begin || out.entry >= out.text_end) {
        return "entry point not in an executable segment";
    }
    return nullptr;
}

bool elf_text_range(const uint8_t* image, size_t size, uint64_t& begin, uint64_t& end) {
    elf64_ehdr eh;
    if (check_header(image, size, eh) != nullptr) {
        return false;
    }
    begin = 0;
    end = 0;
    for (uint16_t i = 0; i < eh.phnum; i++) {
        const elf64_phdr ph = program_header(image, eh, i);
        if (ph.type == pt_load && (ph.flags & pf_x) != 0 && ph.memsz != 0) {
            begin = begin == 0 || ph.vaddr < begin ? ph.vaddr : begin;
            end = ph.vaddr + ph.memsz > end ? ph.vaddr + ph.memsz : end;
        }
    }
    return end != 0;
}

const uint8_t* elf_file_bytes(const uint8_t* image, size_t size, uint64_t va, size_t len) {
    elf64_ehdr eh;
    if (check_header(image, size, eh) != nullptr) {
        return nullptr;
    }
    for (uint16_t i = 0; i < eh.phnum; i++) {
        const elf64_phdr ph = program_header(image, eh, i);
        if (ph.type != pt_load || va < ph.vaddr || va - ph.vaddr > ph.filesz ||
            len > ph.filesz - (va - ph.vaddr) || ph.offset > size || ph.filesz > size - ph.offset) {
            continue;
        }
        return image + ph.offset + (va - ph.vaddr);
    }
    return nullptr;
}

bool elf_read(const uint8_t* image, size_t size, uint64_t va, void* dst, size_t len) {
    const uint8_t* bytes = elf_file_bytes(image, size, va, len);
    if (bytes == nullptr) {
        return false;
    }
    kmemcpy(dst, bytes, len);
    return true;
}

uint64_t elf_symbol(const uint8_t* image, size_t size, const char* name) {
    elf64_ehdr eh;
    if (check_header(image, size, eh) != nullptr || eh.shentsize != sizeof(elf64_shdr) ||
        eh.shoff > size || eh.shnum > (size - eh.shoff) / sizeof(elf64_shdr)) {
        return 0;
    }
    for (uint16_t i = 0; i < eh.shnum; i++) {
        elf64_shdr sh;
        kmemcpy(&sh, image + eh.shoff + i * sizeof(sh), sizeof(sh));
        if (sh.type != sht_symtab || sh.link >= eh.shnum || sh.offset > size ||
            sh.size > size - sh.offset) {
            continue;
        }
        elf64_shdr strtab;
        kmemcpy(&strtab, image + eh.shoff + sh.link * sizeof(strtab), sizeof(strtab));
        if (strtab.offset > size || strtab.size > size - strtab.offset) {
            return 0;
        }
        const char* strings = reinterpret_cast<const char*>(image + strtab.offset);
        const size_t name_len = kstrlen(name);
        for (uint64_t off = 0; off + sizeof(elf64_sym) <= sh.size; off += sizeof(elf64_sym)) {
            elf64_sym sym;
            kmemcpy(&sym, image + sh.offset + off, sizeof(sym));
            if (sym.name + name_len < strtab.size &&
                kstrncmp(strings + sym.name, name, name_len + 1) == 0) {
                return sym.value;
            }
        }
    }
    return 0;
}
