// Smoke test of scripts/bench: the whole benchmark suite runs once with --quick against this
// build directory, exits 0 (every benchmark ran), and every row of its table carries a measured
// number. The values themselves are not checked: they depend on the machine and its load.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

// The cells of one Markdown table row "| a | b | ... |".
std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); i++) {
        if (line[i] == '|' && line[i - 1] != '\\') {
            std::size_t b = cell.find_first_not_of(' ');
            std::size_t e = cell.find_last_not_of(' ');
            out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
            cell.clear();
        } else {
            cell += line[i];
        }
    }
    return out;
}

TEST(BenchSuite, QuickRunPrintsANumberInEveryRow) {
    temp_dir dir;
    const std::string build_dir = std::string(bin_dir).substr(0, std::string(bin_dir).rfind('/'));
    spawn_options o;
    o.argv = {std::string(source_dir) + "/scripts/bench",
              "--no-build",
              "--quick",
              "--markdown",
              dir.file("bench.md"),
              "--logs",
              dir.file("logs")};
    o.env = {"RUPROBES_BUILD_DIR=" + build_dir};
    o.output_file = dir.file("bench.out");
    child_process bench(o);
    auto code = bench.wait_exit(580s);
    ASSERT_TRUE(code.has_value()) << "scripts/bench did not finish:\n" << bench.output();
    EXPECT_EQ(*code, 0) << bench.output();

    // Every benchmark announced a progress line.
    for (const char* name :
         {"product", "product-icount", "guest", "guest-icount", "aggregation", "aggregation-rate",
          "engine-hits", "simulate", "channel", "gdb", "gdb-condition", "rpc", "smp"}) {
        EXPECT_NE(bench.output().find(std::string(" ") + name + ": "), std::string::npos)
            << name << "\n"
            << bench.output();
    }

    std::ifstream md(dir.file("bench.md"));
    ASSERT_TRUE(md.good()) << bench.output();
    const std::regex number("[0-9]+\\.[0-9]+");
    std::string line;
    int rows = 0;
    bool in_table = false;
    while (std::getline(md, line)) {
        if (line.rfind("| measured |", 0) == 0) {
            in_table = true;
            continue;
        }
        if (!in_table || line.rfind("| ---", 0) == 0)
            continue;
        if (line.empty() || line[0] != '|')
            break;
        auto c = cells(line);
        ASSERT_GE(c.size(), 5u) << line;
        EXPECT_TRUE(std::regex_match(c[2], number)) << "no ratio in: " << line;
        EXPECT_NE(c[4], "FAILED") << line;
        rows++;
    }
    // product and product-icount 6 rows each (simulated, out-of-line, entry+return, round robin
    // over 100 and 10,000 sites, drops), guest and guest-icount 5 each, aggregation 6 (count and
    // keyed histogram ÷ the bare in-kernel hit, ÷ the null syscall, ÷ the traced hit, ÷ the
    // no-record hit, the exact count), aggregation-rate 1 (the exact count at full rate), host
    // engine 4, channel 1, gdb 1, gdb conditions 2 (n==3, a condition true once), fan-out 6 (10
    // and 100 subscribers, the loopback ceiling with send() and with sendfile(), 100 subscribers
    // over the ceiling, the fixed rate), smp 4 (2 harts over 1 in wall clock, its two controls:
    // null syscalls and user code alone, 4 harts over 1 in instructions).
    EXPECT_EQ(rows, 47) << bench.output();
}

} // namespace
