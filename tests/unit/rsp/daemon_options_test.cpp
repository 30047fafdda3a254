// ruprobesd's command line: defaults, values, refusals (non-loopback without --allow-remote,
// no target, unknown flags).
#include "daemon/options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace ruprobes::daemon;

namespace {

std::optional<daemon_options> parse(std::vector<const char*> args, std::string& error) {
    args.insert(args.begin(), "ruprobesd");
    return parse_options(static_cast<int>(args.size()), args.data(), error);
}

TEST(daemon_options, defaults_and_values) {
    std::string error;
    auto o = parse({"--fake-target"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->rsp.host, "127.0.0.1");
    EXPECT_EQ(o->rsp.port, 1234);
    EXPECT_EQ(o->rpc.port, 4242);
    EXPECT_EQ(o->append, "ruprobes.stay");
    EXPECT_EQ(o->ready_timeout_s, 30u);
    o = parse({"--launch", "k.elf", "--qemu-arg", "-s", "--qemu-arg=-d", "--spawn", "/bin/fib 20",
               "--rsp-listen", ":0", "--rpc-listen=[::1]:5000", "--log-level", "debug"},
              error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->launch_kernel, "k.elf");
    EXPECT_EQ(o->qemu_args, (std::vector<std::string>{"-s", "-d"}));
    EXPECT_EQ(o->spawn, (std::vector<std::string>{"/bin/fib", "20"}));
    EXPECT_EQ(o->rsp.host, "127.0.0.1");
    EXPECT_EQ(o->rsp.port, 0);
    EXPECT_EQ(o->rpc.host, "::1");
    EXPECT_EQ(o->rpc.port, 5000);
    EXPECT_EQ(o->log_level, "debug");
    o = parse({"--kernel-socket", "/tmp/sim.sock"}, error); // the same as --qemu-socket
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->qemu_socket, "/tmp/sim.sock");
}

TEST(daemon_options, host_stepping_is_on_unless_no_host_step) {
    std::string error;
    EXPECT_TRUE(parse({"--fake-target"}, error)->host_step);
    auto o = parse({"--fake-target", "--no-host-step"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_FALSE(o->host_step);
    // --help tells of it.
    char* text = nullptr;
    size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    print_help(out);
    std::fclose(out);
    std::string help(text, size);
    std::free(text);
    EXPECT_NE(help.find("--no-host-step"), std::string::npos) << help;
}

TEST(daemon_options, ready_timeout_in_seconds) {
    std::string error;
    auto o = parse({"--fake-target", "--ready-timeout", "5"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->ready_timeout_s, 5u);
    for (const char* bad : {"0", "-1", "5s", "", "3601"}) {
        EXPECT_FALSE(parse({"--fake-target", "--ready-timeout", bad}, error)) << bad;
        EXPECT_NE(error.find("--ready-timeout"), std::string::npos) << error;
    }
}

TEST(daemon_options, client_limits) {
    std::string error;
    auto o = parse({"--fake-target", "--max-connections", "16", "--write-timeout", "2.5",
                    "--idle-timeout", "60", "--message-timeout=0.5"},
                   error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->limits.max_connections, 16u);
    EXPECT_EQ(o->limits.write_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(o->limits.idle_timeout, std::chrono::milliseconds(60000));
    EXPECT_EQ(o->limits.message_timeout, std::chrono::milliseconds(500));
    EXPECT_FALSE(parse({"--fake-target", "--max-connections", "0"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--max-connections", "-3"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--idle-timeout", "soon"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--write-timeout", "0"}, error));
    EXPECT_NE(error.find("--write-timeout"), std::string::npos);
}

TEST(daemon_options, refusals) {
    std::string error;
    EXPECT_FALSE(parse({}, error));
    EXPECT_NE(error.find("no target"), std::string::npos);
    EXPECT_FALSE(parse({"--fake-target", "--rsp-listen", "0.0.0.0:1234"}, error));
    EXPECT_NE(error.find("--allow-remote"), std::string::npos);
    EXPECT_TRUE(parse({"--fake-target", "--rsp-listen", "0.0.0.0:1234", "--allow-remote"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--bogus"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--rsp-listen"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--rsp-listen", "1234"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--rsp-listen", "x:99999"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--log-level", "loud"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--launch", "k.elf"}, error));
    EXPECT_FALSE(parse({"--fake-target", "--qemu-arg", "-s"}, error));
    EXPECT_TRUE(parse({"--help"}, error)->help);
    EXPECT_TRUE(parse({"--version"}, error)->version);
}

} // namespace
