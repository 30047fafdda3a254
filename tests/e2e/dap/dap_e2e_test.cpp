// VS Code's side without VS Code: node/ticker_session.js drives cdt-gdb-adapter (the adapter of
// the "CDT GDB Debug Adapter" extension) over the Debug Adapter Protocol with the real
// gdb-multiarch, attached to ruprobesd's --spawn process in the reference kernel under QEMU.
// The attach arguments are those of docs/vscode/launch.json's configuration for that extension.
#include "gdb_session.hpp"

#include <filesystem>

using namespace ruprobes::test;
using namespace std::chrono_literals;

namespace {

const std::string e2e_dir = RUPROBES_DAP_E2E_DIR;

TEST(dap_e2e, cdt_gdb_adapter_session_on_ticker) {
    ASSERT_TRUE(std::filesystem::exists(e2e_dir + "/node/node_modules/cdt-gdb-adapter"))
        << "npm package missing: run scripts/setup (npm ci in tests/e2e/dap/node)";
    temp_dir dir;
    // 300 ticks of 20 ms: time enough to pause it while it runs, and an end to wait for.
    daemon_with_guest d(dir, "ruprobes.stay", {"--spawn", "/bin/ticker 20 300"});

    spawn_options o;
    o.argv = {"node",          e2e_dir + "/node/ticker_session.js",
              "--launch-json", std::string(source_dir) + "/docs/vscode/launch.json",
              "--workspace",   source_dir,
              "--guest-dir",   guest_dir,
              "--port",        d.port(),
              "--adapter-log", dir.file("adapter.log")};
    o.output_file = dir.file("dap.log");
    child_process session(o);
    auto code = session.wait_exit(180s);
    std::string out = session.output();
    ASSERT_TRUE(code) << out;
    EXPECT_EQ(*code, 0) << out << "\n--- ruprobesd:\n" << d.process().output();
    EXPECT_NE(out.find("ticker_session.js: ok"), std::string::npos) << out;
    // Disconnect: gdb leaves (its connection closes) and the process, detached, runs on to its
    // end (tick 300 calls fib(299 % 16 = 11)) instead of being killed.
    EXPECT_TRUE(d.process().wait_for_output(" disconnected", 30s)) << d.process().output();
    EXPECT_TRUE(d.wait_for_console("ticker: tick 300, fib(11) = 89", 60s)) << d.console();
}

} // namespace
