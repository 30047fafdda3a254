// docs/vscode/launch.json must stay what the e2e tests verify. Native Debug (code-debug): its
// "attach" with remote: true makes gdb (here ruprobes-gdb) run `-target-select remote TARGET` with
// the executable on its command line, which is what tests/e2e/gdb/mi_e2e_test.cpp does against
// ruprobesd. CDT GDB Debug Adapter: tests/e2e/dap runs the "gdbtarget" configuration itself.
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

// The configuration of the committed example for one adapter ("gdb": Native Debug,
// "gdbtarget": CDT GDB Debug Adapter).
nlohmann::json example_configuration(const std::string& type) {
    auto doc = nlohmann::json::parse(read_source("docs/vscode/launch.json"));
    const auto& configs = doc.at("configurations");
    EXPECT_EQ(configs.size(), 2u);
    for (const auto& c : configs)
        if (c.at("type") == type)
            return c;
    ADD_FAILURE() << "no configuration of type " << type;
    return nlohmann::json::object();
}

// host:port as ruprobesd's defaults have it, checked against --rsp-listen's parser.
void expect_default_rsp_address(const std::string& target) {
    auto addr = ruprobes::daemon::parse_listen(target);
    ASSERT_TRUE(addr) << target;
    ruprobes::daemon::daemon_options defaults;
    EXPECT_EQ(addr->host, defaults.rsp.host);
    EXPECT_EQ(addr->port, defaults.rsp.port);
}

TEST(docs_launch_json, native_debug_is_a_remote_attach_through_ruprobes_gdb) {
    auto c = example_configuration("gdb");
    EXPECT_EQ(c.at("request"), "attach");
    EXPECT_EQ(c.at("remote"), true);
    EXPECT_EQ(c.at("cwd"), "${workspaceFolder}");
    std::string target = c.at("target");
    expect_default_rsp_address(target);
    // The MI test connects the same way, to host:port, through the same wrapper.
    std::string mi = read_source("tests/e2e/gdb/mi_e2e_test.cpp");
    auto host = target.substr(0, target.find(':'));
    EXPECT_NE(mi.find("\"-target-select remote " + host + ":\" + d.port()"), std::string::npos);
    std::string gdb = c.at("gdbpath");
    EXPECT_EQ(gdb, "${workspaceFolder}/build/bin/ruprobes-gdb");
    EXPECT_NE(mi.find("o.argv = {std::string(bin_dir) + \"/ruprobes-gdb\", \"--interpreter=mi2\""),
              std::string::npos);
    // The build contract: build/guest/user/<name>; the MI test debugs the same program.
    std::string executable = c.at("executable");
    const std::string prefix = "build/guest/user/";
    ASSERT_EQ(executable.rfind(prefix, 0), 0u) << executable;
    std::string program = executable.substr(prefix.size());
    EXPECT_NE(mi.find("mi_client mi(dir, \"" + program + "\")"), std::string::npos) << program;
}

TEST(docs_launch_json, cdt_gdb_adapter_is_the_dap_tests_remote_attach) {
    auto c = example_configuration("gdbtarget");
    EXPECT_EQ(c.at("request"), "attach");
    EXPECT_EQ(c.at("gdb"), "gdb-multiarch");
    EXPECT_EQ(c.at("target").at("type"), "remote");
    ASSERT_EQ(c.at("target").at("parameters").size(), 1u);
    expect_default_rsp_address(c.at("target").at("parameters").at(0));
    std::string program = c.at("program");
    const std::string prefix = "${workspaceFolder}/build/guest/user/";
    ASSERT_EQ(program.rfind(prefix, 0), 0u) << program;
    // The DAP test runs this very configuration (port and build folder replaced) on the same
    // program.
    std::string session = read_source("tests/e2e/dap/node/ticker_session.js");
    EXPECT_NE(session.find("c.type === 'gdbtarget'"), std::string::npos);
    std::string dap = read_source("tests/e2e/dap/dap_e2e_test.cpp");
    EXPECT_NE(dap.find("\"/bin/" + program.substr(prefix.size()) + " "), std::string::npos);
    EXPECT_NE(dap.find("\"/docs/vscode/launch.json\""), std::string::npos);
}

} // namespace
