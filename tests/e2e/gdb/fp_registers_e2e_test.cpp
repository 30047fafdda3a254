// The F/D registers through gdb: the kernel keeps them per thread, the agent carries them over the
// channel (fp_regs_get / fp_regs_set), ruprobesd serves gdb's org.gnu.gdb.riscv.fpu feature with
// p/P. /bin/fpu 10 sums H(10) in harmonic(), whose `sum` lives in fa0, and prints
// (long)scaled(H(10), 1e6).
#include "gdb_session.hpp"

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

bool matches(const std::string& out, const std::string& re) {
    return std::regex_search(out, std::regex(re));
}

TEST(gdb_fp_registers, read_locals_all_registers_finish_and_write) {
    temp_dir dir;
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/fpu 10"});
    std::string out =
        run_gdb(dir, "gdb", "fpu",
                {"target remote 127.0.0.1:" + d.port(), "break fpu.c:11", "continue", "continue",
                 "continue", "p sum", "info address sum", "info all-registers", "delete",
                 // finish from a function that returns a double (in fa0)
                 "finish",
                 // doubles passed in fa0/fa1; fflags has NX from 1/3, 1/6, ...
                 "break scaled", "continue", "p $fa0", "p x", "p factor", "p $fflags", "p $frm",
                 // writes: fa1 through the parameter's location, fflags directly
                 "set var factor = 2.0", "set $fflags = 0", "p $fflags", "finish", "p $fflags",
                 "continue"});
    // The third stop in the loop: sum = 1/1 + 1/2, read from fa0.
    EXPECT_TRUE(has(out, "$1 = 1.5")) << out;
    EXPECT_TRUE(has(out, "a variable in $fa0")) << out;
    EXPECT_TRUE(matches(out, "fa0\\s+\\{float = [^,]+, double = 1.5\\}")) << out;
    EXPECT_TRUE(matches(out, "ft0\\s+\\{float = [^,]+, double = [^}]+\\}")) << out;
    EXPECT_TRUE(matches(out, "fcsr\\s+0x[0-9a-f]+\\s+NV:")) << out;
    EXPECT_FALSE(has(out, "<unavailable>")) << out;
    EXPECT_TRUE(has(out, "Value returned is $2 = 2.9289682539682538")) << out;
    EXPECT_TRUE(matches(out, "\\$3 = \\{float = [^,]+, double = 2.9289682539682538\\}")) << out;
    EXPECT_TRUE(has(out, "$4 = 2.9289682539682538")) << out;
    EXPECT_TRUE(has(out, "$5 = 1000000")) << out;
    EXPECT_TRUE(has(out, "$6 = 1")) << out; // NX
    EXPECT_TRUE(has(out, "$7 = 0")) << out; // round to nearest, ties to even
    EXPECT_TRUE(has(out, "$8 = 0")) << out;
    // x * 2.0 with the written factor; the multiplication is exact, so fflags read back from the
    // kernel after the call is still the 0 written before it.
    EXPECT_TRUE(has(out, "Value returned is $9 = 5.857936507936507")) << out;
    EXPECT_TRUE(has(out, "$10 = 0")) << out;
    EXPECT_TRUE(has(out, "exited normally")) << out;
    EXPECT_TRUE(d.wait_for_console("H(10) * 1e6 = 5", 10s)) << d.console();
}

} // namespace
