#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

// `sh -c script`, its output in dir/out.log.
spawn_options shell(const temp_dir& dir, const std::string& script) {
    spawn_options o;
    o.argv = {"sh", "-c", script};
    o.output_file = dir.file("out.log");
    return o;
}

// A line that arrives in two pieces: the first piece alone must not be matched, so a number
// that goes on in the second piece is not cut short (gdb_e2e read a pid that way).
TEST(child_process, wait_for_match_takes_a_line_written_in_pieces_whole) {
    temp_dir dir;
    std::string go = dir.file("go");
    child_process p(shell(dir, "printf 'spin: pid 1'; while [ ! -e '" + go +
                                   "' ]; do sleep 0.01; done; printf '2 spinning\\n'"));
    ASSERT_TRUE(p.wait_for_output("spin: pid 1", 10s)) << p.output();
    const std::regex pid("spin: pid (\\d+) spinning");
    EXPECT_FALSE(p.wait_for_match(pid, 100ms)) << p.output(); // the writer waits for `go`
    std::ofstream(go).put('\n');
    auto m = p.wait_for_match(pid, 10s);
    ASSERT_TRUE(m) << p.output();
    EXPECT_EQ(*m, "12");
}

TEST(child_process, wait_for_match_without_a_group_gives_the_whole_match) {
    temp_dir dir;
    child_process p(shell(dir, "echo 'listening on port 4242 now'"));
    auto m = p.wait_for_match(std::regex("port \\d+ now"), 10s);
    ASSERT_TRUE(m) << p.output();
    EXPECT_EQ(*m, "port 4242 now");
}

TEST(child_process, a_wait_ends_when_the_program_exits_without_writing_it) {
    temp_dir dir;
    child_process p(shell(dir, "echo 'spin: pid 3 stopped'"));
    // An exited program is a zombie until it is waited for; that must count as gone, so the wait
    // ends long before its deadline instead of at it.
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(p.wait_for_match(std::regex("spin: pid (\\d+) spinning"), 60s)) << p.output();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 50s);
    EXPECT_EQ(p.wait_exit(10s), 0); // the exit status is still there
}

} // namespace
} // namespace ruprobes::test
