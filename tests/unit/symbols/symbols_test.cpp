// program_symbols / symbol_store against a riscv64 ELF built for the test; addresses are checked
// against the `nm` listing made by the same build step.
#include "ruprobes_test/temp_dir.hpp"
#include "symbols/program_symbols.hpp"
#include "symbols/symbol_store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace ruprobes::symbols {
namespace {

const std::string fixture_dir = RUPROBES_SYMBOLS_FIXTURE_DIR;
const std::string fixture = fixture_dir + "/symbols_fixture";

// name → address from `nm` output ("0000000000010078 T add_one").
std::map<std::string, uint64_t> nm_listing() {
    std::map<std::string, uint64_t> out;
    std::ifstream in(fixture + ".nm");
    std::string addr, type, name;
    while (in >> addr >> type >> name)
        out[name] = std::stoull(addr, nullptr, 16);
    return out;
}

std::shared_ptr<const program_symbols> load_fixture() {
    auto loaded = program_symbols::load(fixture);
    if (!loaded) {
        ADD_FAILURE() << loaded.error().message;
        return nullptr;
    }
    return *loaded;
}

template <typename T>
const T& ok(const lookup<T>& l) {
    if (!l)
        throw std::runtime_error("lookup failed: " + l.error().message);
    return *l;
}

template <typename T>
symbol_error::kind err(const lookup<T>& l) {
    if (l)
        throw std::runtime_error("lookup unexpectedly succeeded");
    EXPECT_FALSE(l.error().message.empty());
    return l.error().code;
}

TEST(symbols, functions_match_nm) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    auto nm = nm_listing();
    for (const char* name : {"add_one", "twice", "main", "_start"}) {
        ASSERT_TRUE(nm.count(name)) << name;
        EXPECT_EQ(ok(syms->find_function(name)).address, nm[name]) << name;
    }
    EXPECT_EQ(syms->entry(), nm["_start"]);
    EXPECT_TRUE(ok(syms->find_function("add_one")).global);
    EXPECT_FALSE(ok(syms->find_function("twice")).global);
    EXPECT_GT(ok(syms->find_function("main")).size, 0u);
}

TEST(symbols, unknown_function) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    EXPECT_EQ(err(syms->find_function("no_such_function")), symbol_error::kind::unknown_symbol);
    EXPECT_EQ(err(syms->find_function("counter")), symbol_error::kind::unknown_symbol); // data
}

TEST(symbols, symbolize_address_to_function_and_offset) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    auto nm = nm_listing();
    symbolized s = ok(syms->symbolize(nm["twice"]));
    EXPECT_EQ(s.name, "twice");
    EXPECT_EQ(s.offset, 0u);
    s = ok(syms->symbolize(nm["main"] + 6));
    EXPECT_EQ(s.name, "main");
    EXPECT_EQ(s.offset, 6u);
    EXPECT_EQ(s.function_address, nm["main"]);
    EXPECT_EQ(err(syms->symbolize(0x10)), symbol_error::kind::no_symbol);
    EXPECT_EQ(err(syms->symbolize(0xffffffff00000000ull)), symbol_error::kind::no_symbol);
}

TEST(symbols, file_line_to_address) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    ASSERT_TRUE(syms->has_line_table());
    // Line 6: "return x + 1;" inside add_one.
    line_location l = ok(syms->find_location("symbols_fixture.c:6"));
    EXPECT_EQ(l.line, 6);
    EXPECT_NE(l.file.find("symbols_fixture.c"), std::string::npos);
    symbolized s = ok(syms->symbolize(l.address));
    EXPECT_EQ(s.name, "add_one");
    EXPECT_GT(s.offset, 0u); // after the prologue
    // A path suffix works too; line 15 is "int v = add_one(3);" in main.
    line_location m = ok(syms->find_line("unit/symbols/symbols_fixture.c", 15));
    EXPECT_EQ(ok(syms->symbolize(m.address)).name, "main");
    // Line 16 is blank: the next line with code (17) is used, as gdb does.
    line_location blank = ok(syms->find_line("symbols_fixture.c", 16));
    EXPECT_EQ(blank.line, 17);
    EXPECT_EQ(ok(syms->symbolize(blank.address)).name, "main");
}

TEST(symbols, text_bytes_of_functions) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    auto nm = nm_listing();
    auto text = syms->text_at(nm["add_one"]);
    ASSERT_GE(text.size(), 4u);
    // -O0 add_one starts with `addi sp,sp,-N` (c.addi16sp or addi): low opcode bits of an
    // integer instruction, never zero.
    EXPECT_NE(text[0] | text[1], 0);
    EXPECT_EQ(syms->text_at(nm["main"]).size() + (nm["main"] - nm["add_one"]), text.size());
    EXPECT_TRUE(syms->text_at(0x10).empty());
}

TEST(symbols, file_line_errors) {
    auto syms = load_fixture();
    ASSERT_TRUE(syms);
    EXPECT_EQ(err(syms->find_location("other.c:3")), symbol_error::kind::unknown_file);
    EXPECT_EQ(err(syms->find_location("ixture.c:3")), symbol_error::kind::unknown_file);
    EXPECT_EQ(err(syms->find_location("symbols_fixture.c:5000")), symbol_error::kind::unknown_line);
    EXPECT_EQ(err(syms->find_location("symbols_fixture.c")), symbol_error::kind::bad_location);
    EXPECT_EQ(err(syms->find_location("symbols_fixture.c:x")), symbol_error::kind::bad_location);
    EXPECT_EQ(err(syms->find_location("symbols_fixture.c:0")), symbol_error::kind::bad_location);
}

TEST(symbols, bad_files) {
    ruprobes::test::temp_dir dir;
    std::ofstream(dir.file("text")) << "not an elf";
    EXPECT_EQ(err(program_symbols::load(dir.file("text"))), symbol_error::kind::bad_file);
    EXPECT_EQ(err(program_symbols::load(dir.file("missing"))), symbol_error::kind::bad_file);
    // A host ELF (x86-64 or whatever this machine is) is not a guest program.
    EXPECT_EQ(err(program_symbols::load("/proc/self/exe")), symbol_error::kind::bad_file);
}

TEST(symbol_store, maps_guest_paths_to_host_copies) {
    symbol_store store(fixture_dir);
    auto a = ok(store.program("/bin/symbols_fixture"));
    auto b = ok(store.program("symbols_fixture"));
    EXPECT_EQ(a, b); // cached
    EXPECT_EQ(ok(a->find_function("main")).address, nm_listing()["main"]);
    EXPECT_EQ(err(store.program("/bin/nope")), symbol_error::kind::unknown_program);
    EXPECT_EQ(err(store.program("/bin/../etc/passwd")), symbol_error::kind::unknown_program);
    EXPECT_EQ(err(store.program("")), symbol_error::kind::unknown_program);
    EXPECT_EQ(err(store.program("/bin/symbols_fixture.nm")), symbol_error::kind::bad_file);
}

TEST(symbol_store, reloads_a_rebuilt_program) {
    ruprobes::test::temp_dir dir;
    std::ofstream(dir.file("p")) << "garbage";
    symbol_store store(dir.path());
    EXPECT_EQ(err(store.program("/bin/p")), symbol_error::kind::bad_file);
    {
        std::ifstream src(fixture, std::ios::binary);
        std::ofstream dst(dir.file("p"), std::ios::binary | std::ios::trunc);
        dst << src.rdbuf();
    }
    EXPECT_EQ(ok(ok(store.program("/bin/p"))->find_function("add_one")).address,
              nm_listing()["add_one"]);
}

} // namespace
} // namespace ruprobes::symbols
