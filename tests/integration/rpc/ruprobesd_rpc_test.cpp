// ruprobesd-fake (the daemon over the in-memory fake kernel) serves JSON-RPC on --rpc-listen: the
// Python stdlib client's self test runs against the real daemon binary.
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <gtest/gtest.h>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;

TEST(ruprobesd_rpc, python_client_against_the_daemon_with_the_fake_target) {
    temp_dir dir;
    uint16_t rpc_port = free_tcp_port();
    uint16_t rsp_port = free_tcp_port();
    spawn_options d;
    d.argv = {std::string(bin_dir) + "/ruprobesd-fake",
              "--rsp-listen",
              "127.0.0.1:" + std::to_string(rsp_port),
              "--rpc-listen",
              "127.0.0.1:" + std::to_string(rpc_port),
              "--symbols",
              dir.path()};
    d.output_file = dir.file("ruprobesd.log");
    child_process daemon(d);
    ASSERT_TRUE(daemon.wait_for_output("JSON-RPC server listening", 10s)) << daemon.output();

    spawn_options c;
    c.argv = {"python3", RUPROBES_RPC_CLIENT_PY, "--port", std::to_string(rpc_port), "selftest"};
    c.output_file = dir.file("client.log");
    child_process client(c);
    auto status = client.wait_exit(60s);
    ASSERT_TRUE(status) << client.output();
    EXPECT_EQ(*status, 0) << client.output() << "\n--- daemon:\n" << daemon.output();
    EXPECT_NE(client.output().find("selftest: ok"), std::string::npos) << client.output();
    EXPECT_TRUE(daemon.running()) << daemon.output();
}

} // namespace
} // namespace ruprobes::test
