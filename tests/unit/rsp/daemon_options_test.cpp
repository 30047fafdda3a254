// ruprobesd's and ruprobesd-fake's command lines: defaults, values, refusals (non-loopback
// without --allow-remote, no target, unknown flags), and the generated --help.
#include "daemon/options.hpp"
#include "launch/qemu_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace ruprobes::daemon;
namespace launch = ruprobes::launch;

namespace {

std::optional<daemon_options> parse(std::vector<const char*> args, std::string& error) {
    args.insert(args.begin(), "ruprobesd");
    return parse_options(static_cast<int>(args.size()), args.data(), error);
}

// ruprobesd-fake: the same flags without the target ones (its target is the fake kernel).
std::optional<daemon_options> parse_fake(std::vector<const char*> args, std::string& error) {
    args.insert(args.begin(), "ruprobesd-fake");
    return parse_options(static_cast<int>(args.size()), args.data(), error,
                         daemon_kind::fake_kernel);
}

std::string help_of(daemon_kind kind) {
    char* text = nullptr;
    size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    print_help(out, kind);
    std::fclose(out);
    std::string help(text, size);
    std::free(text);
    return help;
}

TEST(daemon_options, defaults_and_values) {
    std::string error;
    auto o = parse_fake({}, error);
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
    EXPECT_TRUE(parse_fake({}, error)->host_step);
    auto o = parse_fake({"--no-host-step"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_FALSE(o->host_step);
    // --help tells of it.
    EXPECT_NE(help_of(daemon_kind::kernel).find("--no-host-step"), std::string::npos);
}

TEST(daemon_options, ready_timeout_in_seconds) {
    std::string error;
    auto o = parse_fake({"--ready-timeout", "5"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->ready_timeout_s, 5u);
    for (const char* bad : {"0", "-1", "5s", "", "3601"}) {
        EXPECT_FALSE(parse_fake({"--ready-timeout", bad}, error)) << bad;
        EXPECT_NE(error.find("--ready-timeout"), std::string::npos) << error;
    }
}

TEST(daemon_options, client_limits) {
    std::string error;
    auto o = parse_fake({"--max-connections", "16", "--write-timeout", "2.5", "--idle-timeout",
                         "60", "--message-timeout=0.5"},
                        error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->limits.max_connections, 16u);
    EXPECT_EQ(o->limits.write_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(o->limits.idle_timeout, std::chrono::milliseconds(60000));
    EXPECT_EQ(o->limits.message_timeout, std::chrono::milliseconds(500));
    EXPECT_FALSE(parse_fake({"--max-connections", "0"}, error));
    EXPECT_FALSE(parse_fake({"--max-connections", "-3"}, error));
    EXPECT_FALSE(parse_fake({"--idle-timeout", "soon"}, error));
    EXPECT_FALSE(parse_fake({"--write-timeout", "0"}, error));
    EXPECT_NE(error.find("--write-timeout"), std::string::npos);
}

TEST(daemon_options, refusals) {
    std::string error;
    EXPECT_FALSE(parse({}, error));
    EXPECT_NE(error.find("no target"), std::string::npos);
    EXPECT_FALSE(parse_fake({"--rsp-listen", "0.0.0.0:1234"}, error));
    EXPECT_NE(error.find("--allow-remote"), std::string::npos);
    EXPECT_TRUE(parse_fake({"--rsp-listen", "0.0.0.0:1234", "--allow-remote"}, error));
    EXPECT_FALSE(parse_fake({"--bogus"}, error));
    EXPECT_FALSE(parse_fake({"--rsp-listen"}, error));
    EXPECT_FALSE(parse_fake({"--rsp-listen", "1234"}, error));
    EXPECT_FALSE(parse_fake({"--rsp-listen", "x:99999"}, error));
    EXPECT_FALSE(parse_fake({"--log-level", "loud"}, error));
    EXPECT_FALSE(parse_fake({"--launch", "k.elf"}, error)); // the fake is the only target
    EXPECT_FALSE(parse_fake({"--qemu-socket", "/tmp/s"}, error));
    EXPECT_FALSE(parse({"--qemu-socket", "/tmp/s", "--qemu-arg", "-s"}, error));
    EXPECT_NE(error.find("--qemu-arg only applies to --launch"), std::string::npos) << error;
    EXPECT_FALSE(parse({"--qemu-socket", "/tmp/s", "--harts", "4"}, error));
    EXPECT_NE(error.find("--harts only applies to --launch"), std::string::npos) << error;
    EXPECT_TRUE(parse({"--help"}, error)->help);
    EXPECT_TRUE(parse({"--version"}, error)->version);
}

TEST(daemon_options, the_production_daemon_has_no_fake_target) {
    std::string error;
    EXPECT_FALSE(parse({"--fake-target"}, error));
    EXPECT_EQ(error, "unknown option '--fake-target'");
    EXPECT_EQ(help_of(daemon_kind::kernel).find("fake"), std::string::npos);
}

TEST(daemon_options, repeated_flags) {
    std::string error;
    auto o = parse({"--qemu-socket", "/tmp/a", "--rsp-listen", ":1", "--rsp-listen", ":2"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->rsp.port, 2); // the last one wins
    o = parse({"--launch", "k.elf", "--qemu-arg", "-s", "--qemu-arg", "-S"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->qemu_args, (std::vector<std::string>{"-s", "-S"})); // each one counts
    EXPECT_FALSE(parse({"--launch", "k.elf", "--qemu-arg", "-s", "extra"}, error));
    EXPECT_EQ(error, "unknown option 'extra'");
}

// --harts: the kernel's hart count for --launch, 1 to 8, passed to QEMU as -smp.
TEST(daemon_options, harts_of_a_launched_kernel) {
    std::string error;
    auto o = parse({"--launch", "k.elf"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->harts, 1u);
    o = parse({"--launch", "k.elf", "--harts", "4"}, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->harts, 4u);
    launch::qemu_options q;
    q.kernel = "k.elf";
    q.harts = o->harts;
    const auto argv = launch::qemu_command(q);
    const auto smp = std::find(argv.begin(), argv.end(), "-smp");
    ASSERT_NE(smp, argv.end());
    ASSERT_NE(smp + 1, argv.end());
    EXPECT_EQ(smp[1], "4");
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "-smp"), 1);
    for (const char* bad : {"0", "9", "-1", "two", "", "44"}) {
        EXPECT_FALSE(parse({"--launch", "k.elf", "--harts", bad}, error)) << bad;
        EXPECT_NE(error.find("--harts: expected 1..8, got '" + std::string(bad) + "'"),
                  std::string::npos)
            << error;
    }
}

// --help lists every flag with its default, in its group.
TEST(daemon_options, help_lists_every_flag_and_default) {
    std::string help = help_of(daemon_kind::kernel);
    for (const char* text : {"Usage: ruprobesd",
                             "Target (one of):",
                             "Front ends:",
                             "Client limits",
                             "General:",
                             "--qemu-socket",
                             "--kernel-socket",
                             "--launch KERNEL",
                             "--qemu-arg ARG",
                             "--qemu-log FILE",
                             "--harts N=1",
                             "--append CMDLINE=ruprobes.stay",
                             "--rsp-listen HOST:PORT=127.0.0.1:1234",
                             "--rpc-listen HOST:PORT=127.0.0.1:4242",
                             "--no-rpc",
                             "--allow-remote",
                             "--spawn",
                             "--ready-timeout SECONDS=30",
                             "--symbols DIR",
                             "--max-connections N=256",
                             "--write-timeout SEC=30",
                             "--idle-timeout SEC=300",
                             "--message-timeout SEC=10",
                             "--log-level LEVEL=info",
                             "-h,--help",
                             "--version"})
        EXPECT_NE(help.find(text), std::string::npos) << text << " not in\n" << help;
    EXPECT_LT(help.find("Target (one of):"), help.find("Front ends:"));
    EXPECT_LT(help.find("Front ends:"), help.find("Client limits"));
    EXPECT_LT(help.find("Client limits"), help.find("General:"));

    std::string fake = help_of(daemon_kind::fake_kernel);
    EXPECT_NE(fake.find("Usage: ruprobesd-fake"), std::string::npos) << fake;
    EXPECT_NE(fake.find("--rsp-listen HOST:PORT=127.0.0.1:1234"), std::string::npos) << fake;
    for (const char* target_flag : {"Target", "--qemu-socket", "--launch", "--qemu-arg"})
        EXPECT_EQ(fake.find(target_flag), std::string::npos) << target_flag;
}

} // namespace
