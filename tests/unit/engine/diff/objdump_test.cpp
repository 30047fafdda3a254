// Differential test of the decoder's fields against the GNU disassembler: random 32-bit words of
// every RV64GC major opcode are decoded and printed with format_insn(), and objdump
// (-M no-aliases) must print the same instruction with the same operands. This covers the
// classes the execution test cannot compare field by field (F, D, A, refused ones).
//
// Normalisations: objdump's "# address" comments are dropped, its absolute branch targets become
// offsets, shift amounts are read as numbers, rounding-mode operands are dropped, ".aqrl" is
// ".aq.rl". Not compared: fence (objdump prints pred/succ), fence.i (binutils wants its reserved
// fields zero; the spec says to ignore them, ch. 3), csr* (objdump prints CSR names), and
// fcvt.d.s/fcvt.d.w/fcvt.d.wu with a rounding mode other than rne, which binutils 2.40 does not
// accept but the spec (ch. 12.5: these have an rm field) and QEMU do.
#include "ruprobes/insn.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ruprobes::opcode;

std::string mine(uint32_t w) {
    char buf[80];
    ruprobes::format_insn(ruprobes::decode_bits(w), buf, sizeof buf);
    return buf;
}

bool skipped(const ruprobes::decoded_insn& d) {
    if (d.op == opcode::fence || d.op == opcode::fence_i ||
        (d.op >= opcode::csrrw && d.op <= opcode::csrrci))
        return true;
    return (d.op == opcode::fcvt_d_s || d.op == opcode::fcvt_d_w || d.op == opcode::fcvt_d_wu) &&
           d.rm != 0;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// objdump's text for the word at `address`, rewritten into format_insn()'s conventions.
std::string normalise(std::string text, uint64_t address, const ruprobes::decoded_insn& d) {
    if (auto hash = text.find(" #"); hash != std::string::npos)
        text.erase(hash);
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    for (const char* rm : {",rne", ",rtz", ",rdn", ",rup", ",rmm", ",dyn"})
        if (ends_with(text, rm))
            text.erase(text.size() - 4);
    if (auto aqrl = text.find(".aqrl"); aqrl != std::string::npos)
        text.replace(aqrl, 5, ".aq.rl");
    const bool branch_or_jal = d.op == opcode::jal || (d.op >= opcode::beq && d.op <= opcode::bgeu);
    const bool shift = (d.op >= opcode::slli && d.op <= opcode::srai) ||
                       (d.op >= opcode::slliw && d.op <= opcode::sraiw);
    if (branch_or_jal || shift) {
        auto comma = text.rfind(',');
        if (comma != std::string::npos && text.compare(comma + 1, 2, "0x") == 0) {
            uint64_t v = std::stoull(text.substr(comma + 3), nullptr, 16);
            long long shown =
                branch_or_jal ? static_cast<long long>(v - address) : static_cast<long long>(v);
            text = text.substr(0, comma + 1) + std::to_string(shown);
        }
    }
    return text;
}

TEST(engine_decode_objdump, fields_match_the_gnu_disassembler) {
    constexpr uint32_t majors[] = {0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37,
                                   0x3b, 0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73};
    constexpr uint32_t op_fp_funct7[] = {0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x0c, 0x0d, 0x2c,
                                         0x2d, 0x10, 0x11, 0x14, 0x15, 0x20, 0x21, 0x60, 0x61,
                                         0x68, 0x69, 0x50, 0x51, 0x70, 0x71, 0x78, 0x79};
    std::mt19937 rng(20260101);
    std::vector<uint32_t> words;
    while (words.size() < 100000) {
        uint32_t w = (rng() & ~0x7fu) | majors[rng() % (sizeof majors / sizeof majors[0])];
        if ((w & 0x7f) == 0x53) { // steer OP-FP to defined operations and small rs2 selectors
            w = (w & 0x01ffffffu) | (op_fp_funct7[rng() % 26] << 25);
            if (rng() % 2)
                w &= ~(0x1cu << 20);
        }
        if ((w & 0x7f) == 0x2f && rng() % 2) // AMO: word/doubleword widths
            w = (w & ~0x7000u) | ((2 + rng() % 2) << 12);
        const auto d = ruprobes::decode_bits(w);
        if (d.op != opcode::illegal && !skipped(d))
            words.push_back(w);
    }

    ruprobes::test::temp_dir dir;
    {
        std::ofstream bin(dir.file("words.bin"), std::ios::binary);
        bin.write(reinterpret_cast<const char*>(words.data()),
                  static_cast<std::streamsize>(words.size() * 4));
    }
    ruprobes::test::spawn_options run;
    run.argv = {RUPROBES_OBJDUMP,     "-b", "binary", "-m", "riscv:rv64", "-M", "no-aliases", "-D",
                dir.file("words.bin")};
    run.output_file = dir.file("objdump.txt");
    ruprobes::test::child_process objdump(run);
    auto status = objdump.wait_exit(std::chrono::seconds(120));
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(*status, 0);

    // Lines look like "   1c:\t02c5a533          \tmulhsu\ta0,a1,a2".
    std::map<uint64_t, std::string> theirs;
    std::istringstream lines(objdump.output());
    for (std::string line; std::getline(lines, line);) {
        auto t1 = line.find('\t');
        auto colon = line.find(':');
        if (t1 == std::string::npos || colon == std::string::npos || colon > t1)
            continue;
        auto t2 = line.find('\t', t1 + 1);
        if (t2 == std::string::npos)
            continue;
        std::string text = line.substr(t2 + 1);
        if (auto tab = text.find('\t'); tab != std::string::npos)
            text[tab] = ' ';
        theirs[std::stoull(line.substr(0, colon), nullptr, 16)] = text;
    }
    ASSERT_EQ(theirs.size(), words.size());

    size_t mismatches = 0;
    for (size_t i = 0; i < words.size(); ++i) {
        const uint64_t address = 4 * i;
        const std::string expected =
            normalise(theirs[address], address, ruprobes::decode_bits(words[i]));
        const std::string actual = mine(words[i]);
        if (expected != actual && ++mismatches <= 20)
            ADD_FAILURE() << std::hex << words[i] << ": objdump '" << expected << "', decoder '"
                          << actual << "'";
    }
    std::printf("engine_decode_objdump: %zu words compared, %zu mismatches\n", words.size(),
                mismatches);
    EXPECT_EQ(mismatches, 0u);
}

} // namespace
