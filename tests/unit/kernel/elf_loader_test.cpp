// The ELF loader and image queries against the real user programs of the guest build.
#include "kernel_memory_fixture.hpp"
#include "mm/user_memory.hpp"
#include "proc/elf_loader.hpp"

#include "ruprobes_test/paths.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> user_program(const char* name) {
    return read_file(std::string(ruprobes::test::user_dir) + "/" + name);
}

uint64_t read_u64(const std::vector<uint8_t>& image, size_t offset) {
    uint64_t v;
    std::memcpy(&v, image.data() + offset, 8);
    return v;
}

} // namespace

class KernelElfLoader : public KernelMemory {};

TEST_F(KernelElfLoader, FindsSymbolsTextRangeAndFileBytes) {
    auto fib = user_program("fib");
    ASSERT_GT(fib.size(), 64u);
    uint64_t begin = 0, end = 0;
    ASSERT_TRUE(elf_text_range(fib.data(), fib.size(), begin, end));
    EXPECT_EQ(begin, layout::user_begin);
    const uint64_t fib_addr = elf_symbol(fib.data(), fib.size(), "fib");
    EXPECT_GE(fib_addr, begin);
    EXPECT_LT(fib_addr, end);
    EXPECT_EQ(elf_symbol(fib.data(), fib.size(), "no_such_symbol"), 0u);
    EXPECT_EQ(elf_symbol(fib.data(), fib.size(), "fi"), 0u) << "prefix of a name";
    uint8_t insn[4] = {};
    ASSERT_TRUE(elf_read(fib.data(), fib.size(), fib_addr, insn, 4));
    EXPECT_NE(insn[0] | insn[1], 0);
    EXPECT_FALSE(elf_read(fib.data(), fib.size(), end + 0x100000, insn, 4));
}

TEST_F(KernelElfLoader, LoadsSegmentsWithTheirPermissions) {
    auto insns = user_program("insns");
    page_table_root pt = create_user_page_table();
    loaded_image image;
    ASSERT_EQ(load_elf(pt, insns.data(), insns.size(), image), nullptr);
    EXPECT_EQ(image.entry, read_u64(insns, 24));
    EXPECT_EQ(image.text_begin, layout::user_begin);

    const uint64_t text = elf_symbol(insns.data(), insns.size(), "insn_mix");
    const uint64_t data = elf_symbol(insns.data(), insns.size(), "insn_mix_calls");
    ASSERT_NE(text, 0u);
    ASSERT_NE(data, 0u);
    EXPECT_NE(user_va_to_pa(pt, text, pte::x), 0u);
    EXPECT_EQ(user_va_to_pa(pt, text, pte::w), 0u) << "text must not be writable";
    EXPECT_NE(user_va_to_pa(pt, data, pte::w), 0u);
    EXPECT_EQ(user_va_to_pa(pt, data, pte::x), 0u) << "data must not be executable";

    uint8_t loaded[16], file[16];
    ASSERT_TRUE(peek_user(pt, loaded, text, sizeof(loaded)));
    ASSERT_TRUE(elf_read(insns.data(), insns.size(), text, file, sizeof(file)));
    EXPECT_EQ(std::memcmp(loaded, file, sizeof(file)), 0);
    destroy_user_page_table(pt);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}

// The xol page goes on the first page after the image: not one the loader maps, and within a
// jal's reach (+-1 MiB) of every text address, so out-of-line hits are one trap.
TEST_F(KernelElfLoader, XolPageFollowsTheImageWithinJalReachOfTheText) {
    for (const char* name : {"insns", "loop", "fib", "jump"}) {
        auto program = user_program(name);
        page_table_root pt = create_user_page_table();
        loaded_image image;
        ASSERT_EQ(load_elf(pt, program.data(), program.size(), image), nullptr) << name;
        EXPECT_GE(image.image_end, image.text_end) << name;
        const uint64_t xol = layout::xol_page_after(image.image_end);
        EXPECT_EQ(xol, layout::page_round_up(image.image_end)) << name;
        EXPECT_NE(user_va_to_pa(pt, image.image_end - 1, 0), 0u) << name << ": the image's end";
        EXPECT_EQ(user_va_to_pa(pt, xol, 0), 0u) << name << ": the loader leaves the page free";
        EXPECT_LE(xol + layout::page_size - image.text_begin, uint64_t{1} << 20) << name;
        destroy_user_page_table(pt);
    }
    EXPECT_EQ(free_frame_count(), frames_at_start_);
    // An image reaching the stack leaves no page after it: the fixed page above the stack.
    EXPECT_EQ(layout::xol_page_after(layout::user_stack_bottom - layout::page_size),
              layout::user_stack_bottom - layout::page_size);
    EXPECT_EQ(layout::xol_page_after(layout::user_stack_bottom - layout::page_size + 1),
              layout::user_xol_page);
    EXPECT_EQ(layout::xol_page_after(layout::user_stack_bottom), layout::user_xol_page);
}

TEST_F(KernelElfLoader, RejectsBadImages) {
    auto hello = user_program("hello");
    page_table_root pt = create_user_page_table();
    loaded_image image;
    EXPECT_STREQ(load_elf(pt, hello.data(), 10, image), "truncated header");

    auto bad = hello;
    bad[1] = 'X';
    EXPECT_STREQ(load_elf(pt, bad.data(), bad.size(), image), "bad magic");

    bad = hello;
    bad[18] = 62; // EM_X86_64
    EXPECT_STREQ(load_elf(pt, bad.data(), bad.size(), image), "not a RISC-V executable");

    // The first PT_LOAD header's p_vaddr moved into the kernel's half.
    uint64_t phoff = read_u64(hello, 32);
    while (hello[phoff] != 1 /* PT_LOAD */) {
        phoff += 56;
        ASSERT_LT(phoff, hello.size());
    }
    bad = hello;
    const uint64_t kernel_va = 0x80200000;
    std::memcpy(bad.data() + phoff + 16, &kernel_va, 8);
    EXPECT_STREQ(load_elf(pt, bad.data(), bad.size(), image), "segment outside the user window");

    // A segment whose file bytes run past the end of the image.
    bad = hello;
    const uint64_t huge = 1ull << 40;
    std::memcpy(bad.data() + phoff + 32, &huge, 8); // p_filesz
    EXPECT_STREQ(load_elf(pt, bad.data(), bad.size(), image), "segment outside the file");
    destroy_user_page_table(pt);
    EXPECT_EQ(free_frame_count(), frames_at_start_);
}
