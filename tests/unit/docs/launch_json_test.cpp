// docs/vscode/launch.json must stay what the gdb/MI e2e test (tests/e2e/gdb/mi_e2e_test.cpp)
// verifies: code-debug's "attach" with remote: true makes gdb run `-target-select remote TARGET`
// with the executable on its command line, which is what that test does against ruprobesd.
#include "daemon/options.hpp"
#include "ruprobes_test/paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

using ruprobes::test::source_dir;

namespace {

std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(source_dir) + "/" + relative);
    EXPECT_TRUE(in.good()) << relative;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The one configuration of the committed example.
nlohmann::json example_configuration() {
    auto doc = nlohmann::json::parse(read_source("docs/vscode/launch.json"));
    const auto& configs = doc.at("configurations");
    EXPECT_EQ(configs.size(), 1u);
    return configs.at(0);
}

TEST(docs_launch_json, is_a_code_debug_remote_attach) {
    auto c = example_configuration();
    EXPECT_EQ(c.at("type"), "gdb");
    EXPECT_EQ(c.at("request"), "attach");
    EXPECT_EQ(c.at("remote"), true);
    EXPECT_EQ(c.at("cwd"), "${workspaceFolder}");
}

TEST(docs_launch_json, target_is_the_daemons_default_rsp_address) {
    auto c = example_configuration();
    std::string target = c.at("target");
    auto addr = ruprobes::daemon::parse_listen(target);
    ASSERT_TRUE(addr) << target;
    ruprobes::daemon::daemon_options defaults;
    EXPECT_EQ(addr->host, defaults.rsp.host);
    EXPECT_EQ(addr->port, defaults.rsp.port);
    // The MI test connects the same way, to host:port.
    std::string mi = read_source("tests/e2e/gdb/mi_e2e_test.cpp");
    EXPECT_NE(mi.find("\"-target-select remote " + addr->host + ":\" + d.port()"),
              std::string::npos);
}

TEST(docs_launch_json, gdb_and_executable_are_the_mi_tests) {
    auto c = example_configuration();
    std::string mi = read_source("tests/e2e/gdb/mi_e2e_test.cpp");
    std::string gdb = c.at("gdbpath");
    EXPECT_EQ(gdb, "gdb-multiarch");
    EXPECT_NE(mi.find("o.argv = {\"" + gdb + "\", \"--interpreter=mi2\""), std::string::npos);
    // The build contract: build/guest/user/<name>; the MI test debugs the same program.
    std::string executable = c.at("executable");
    const std::string prefix = "build/guest/user/";
    ASSERT_EQ(executable.rfind(prefix, 0), 0u) << executable;
    std::string program = executable.substr(prefix.size());
    EXPECT_NE(mi.find("mi_client mi(dir, \"" + program + "\")"), std::string::npos) << program;
}

} // namespace
