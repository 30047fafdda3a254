// Hostile and clumsy clients against the real daemon and kernel: deep nesting, huge batches, NACK
// storms, connections that go silent half-way, the file-descriptor limit, unread replies, piles of
// subscriptions, a JSON-RPC kill of a process gdb holds. After each: the daemon runs, its peak
// resident memory stayed under 64 MiB, and a normal gdb session and subscription work.
#include "hostile_support.hpp"
#include "ruprobes/rsp/request.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ruprobes::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::string request(int id, const std::string& method, const std::string& params = "{}") {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
           R"(","params":)" + params + "}";
}

std::string batch_of(int n, const std::string& method) {
    std::string out = "[";
    for (int i = 0; i < n; i++)
        out += (i ? "," : "") + request(i + 1, method);
    return out + "]";
}

// utime + stime of a process in clock ticks (from /proc/PID/stat), or -1.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto paren = text.rfind(')');
    if (paren == std::string::npos)
        return -1;
    std::istringstream fields(text.substr(paren + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> f; i++) {
        if (i == 14)
            utime = std::stol(f);
        if (i == 15) {
            stime = std::stol(f);
            break;
        }
    }
    return utime + stime;
}

// Waits until the file at `path` contains `needle`; false at the deadline.
bool wait_for_text(const std::string& path, const std::string& needle,
                   std::chrono::milliseconds timeout) {
    for (auto end = clock_type::now() + timeout; clock_type::now() < end;
         std::this_thread::sleep_for(100ms)) {
        if (read_text(path).find(needle) != std::string::npos)
            return true;
    }
    return false;
}

size_t count_of(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        n++;
    return n;
}

// True when `pid` is gone (or a zombie) before the deadline.
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
    for (auto end = clock_type::now() + timeout; clock_type::now() < end;
         std::this_thread::sleep_for(50ms)) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto paren = text.rfind(')');
        if (text.empty() ||
            (paren != std::string::npos && text.size() > paren + 2 && text[paren + 2] == 'Z'))
            return true;
    }
    return false;
}

void expect_rss_bounded(rpc_daemon& d) {
    long hwm = vm_hwm_kib(d.process().pid());
    long rss = vm_rss_kib(d.process().pid());
    EXPECT_GT(hwm, 0);
    EXPECT_LT(hwm, rss_limit_kib) << "peak resident memory " << hwm << " KiB";
    EXPECT_LT(rss, rss_limit_kib) << "resident memory " << rss << " KiB";
    std::printf("daemon VmHWM %ld KiB, VmRSS %ld KiB\n", hwm, rss);
}

TEST(hostile, deep_nesting_huge_batches_and_subscription_piles_are_refused) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();

    // 150,000 nested arrays (300 KB, under the 1 MiB message limit) once killed the daemon.
    const size_t depth = 150000;
    c.raw(request(1, "target.status", std::string(depth, '[') + std::string(depth, ']')) + "\n");
    auto deep = c.receive(10s);
    ASSERT_TRUE(deep) << d.process().output();
    ASSERT_TRUE(deep->contains("error")) << deep->dump();
    EXPECT_EQ((*deep)["error"]["code"], -32600);
    EXPECT_NE((*deep)["error"]["data"]["reason"].get<std::string>().find("nesting"),
              std::string::npos)
        << deep->dump();
    EXPECT_EQ((*deep)["error"]["data"]["limit"], 64);
    ASSERT_TRUE(d.process().running()) << d.process().output();
    // Just under the limit is fine.
    json ok = c.call("target.status",
                     json::array({json::parse(std::string(62, '[') + "1" + std::string(62, ']'))}));
    EXPECT_TRUE(ok.contains("result")) << ok.dump();

    // A batch of 10,000 calls (about 500 KB) is refused whole; one of 100 is served.
    c.raw(batch_of(10000, "process.list") + "\n");
    auto big = c.receive(10s);
    ASSERT_TRUE(big);
    ASSERT_TRUE(big->contains("error")) << big->dump().substr(0, 500);
    EXPECT_EQ((*big)["error"]["data"]["limit"], 100);
    EXPECT_EQ((*big)["error"]["data"]["size"], 10000);
    c.raw(batch_of(100, "process.list") + "\n");
    auto served = c.receive(20s);
    ASSERT_TRUE(served && served->is_array()) << (served ? served->dump().substr(0, 300) : "");
    EXPECT_EQ(served->size(), 100u);
    EXPECT_TRUE((*served)[99].contains("result")) << (*served)[99].dump();

    // Subscriptions per connection are capped with a clear error.
    int accepted = 0;
    json refused;
    for (int i = 0; i < 1000; i++) {
        json r = c.call("events.subscribe", {{"pids", {100000 + i}}});
        if (r.contains("error")) {
            refused = r;
            break;
        }
        accepted++;
    }
    EXPECT_EQ(accepted, 64);
    ASSERT_TRUE(refused.contains("error"));
    EXPECT_EQ(refused["error"]["code"], -32021) << refused.dump();
    EXPECT_EQ(refused["error"]["data"]["limit"], 64) << refused.dump();

    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
    expect_rss_bounded(d);
}

TEST(hostile, launched_qemu_dies_with_the_daemon) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    auto started = d.process().wait_for_match(std::regex("QEMU started \\(pid ([0-9]+)\\)"), 10s);
    ASSERT_TRUE(started) << d.process().output();
    pid_t qemu = static_cast<pid_t>(std::stol(*started));
    ASSERT_FALSE(wait_gone(qemu, 0ms));
    // A crash is a death without cleanup: SIGKILL gives the daemon no chance to stop QEMU.
    ASSERT_EQ(::kill(d.process().pid(), SIGKILL), 0);
    EXPECT_TRUE(wait_gone(qemu, 10s)) << "QEMU (pid " << qemu << ") outlived the daemon";
}

TEST(hostile, nack_storm_and_unread_output_are_bounded) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    {
        rpc_test_client c(d.rpc_port());
        ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    }
    {
        // Ack mode: a reply of a few KB, then 20,000 '-' sent without reading. Each '-' used to
        // queue one more copy of the reply.
        raw_socket s(d.rsp_port(), 4096);
        ASSERT_TRUE(s.send(rsp_packet("qXfer:features:read:target.xml:0,3fff")));
        std::string reply = s.read_for(10s, "</target>");
        ASSERT_NE(reply.find("</target>"), std::string::npos) << reply;
        const size_t reply_size = reply.size() - reply.find('$');
        ASSERT_TRUE(s.send(std::string(20000, '-')));
        // The daemon handles the storm; then a marker packet shows where it ended.
        ASSERT_TRUE(s.send(rsp_packet("qSupported:multiprocess+")));
        std::string back = s.read_for(30s, "PacketSize");
        EXPECT_NE(back.find("PacketSize"), std::string::npos);
        size_t copies = count_of(back, "</target>");
        std::printf("NACK storm: %zu resends of a %zu byte reply for 20000 '-'\n", copies,
                    reply_size);
        EXPECT_LT(copies, 200u) << copies << " resends of a " << reply_size << " byte reply";
        EXPECT_TRUE(d.process().running());
        expect_rss_bounded(d);
    }
    {
        // A client that asks and never reads: its output queue passes the bound and it is
        // dropped (well before the write deadline).
        raw_socket s(d.rsp_port(), 4096);
        ASSERT_TRUE(s.send("+" + rsp_packet("QStartNoAckMode")));
        std::string many;
        for (int i = 0; i < 4000; i++)
            many += rsp_packet("qXfer:features:read:target.xml:0,3fff");
        s.send(many); // may fail part-way once the daemon drops us
        EXPECT_TRUE(s.wait_closed(20s));
        EXPECT_TRUE(d.process().wait_for_output("bytes of output unread; dropping it", 5s))
            << d.process().output();
        expect_rss_bounded(d);
    }
    expect_normal_sessions(dir, d);
    expect_rss_bounded(d);
}

TEST(hostile, silent_and_half_sent_connections_do_not_lock_others_out) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd",
                 {"--max-connections", "16", "--message-timeout", "2", "--idle-timeout", "4"});
    rpc_test_client subscriber(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(subscriber).empty()) << d.process().output();
    subscriber.call("events.subscribe", {{"kinds", {"process.exit"}}}); // holds something

    // 256 connections per port that send half a request and go silent.
    std::vector<std::unique_ptr<raw_socket>> half;
    for (int i = 0; i < 256; i++) {
        half.push_back(std::make_unique<raw_socket>(d.rpc_port()));
        half.back()->send(R"({"jsonrpc":"2.0","id":1,"meth)");
        half.push_back(std::make_unique<raw_socket>(d.rsp_port()));
        half.back()->send("$qSupported:multipro");
    }
    // New clients are served while the cap is reached.
    try {
        rpc_test_client c(d.rpc_port());
        json r = c.call("target.status", json::object(), 10s);
        EXPECT_TRUE(r.contains("result")) << r.dump();
        raw_socket g(d.rsp_port());
        g.send(rsp_packet("qSupported:multiprocess+"));
        EXPECT_NE(g.read_for(10s, "PacketSize").find("PacketSize"), std::string::npos);
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what() << "\n" << d.process().output();
    }
    // Every half-sent connection is closed: by the cap or by the message deadline.
    for (auto& s : half)
        EXPECT_TRUE(s->wait_closed(15s));
    half.clear();
    EXPECT_TRUE(d.process().wait_for_output("a message begun and not finished within 2000 ms", 5s));

    // Silent connections that hold nothing are dropped by the idle deadline.
    std::vector<std::unique_ptr<raw_socket>> silent;
    for (int i = 0; i < 5; i++) {
        silent.push_back(std::make_unique<raw_socket>(d.rpc_port()));
        silent.push_back(std::make_unique<raw_socket>(d.rsp_port()));
    }
    int closed = 0;
    for (auto& s : silent)
        closed += s->wait_closed(15s);
    EXPECT_EQ(closed, 10);
    EXPECT_TRUE(d.process().wait_for_output("idle, holding nothing, for 4000 ms", 5s));
    // The subscriber has been as silent, but it holds a subscription: it stays.
    try {
        json still = subscriber.call("target.status");
        EXPECT_TRUE(still.contains("result")) << still.dump();
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what() << "\n" << d.process().output();
    }

    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
}

TEST(hostile, accept_backs_off_at_the_file_descriptor_limit) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd", {}, {"prlimit", "--nofile=48", "--"});
    {
        rpc_test_client c(d.rpc_port());
        ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    }
    std::vector<std::unique_ptr<raw_socket>> flood;
    for (int i = 0; i < 80; i++) {
        flood.push_back(std::make_unique<raw_socket>(i % 2 ? d.rsp_port() : d.rpc_port()));
        flood.back()->send(i % 2 ? "+" : "\n");
    }
    ASSERT_TRUE(d.process().wait_for_output("accept: Too many open files", 20s))
        << d.process().output();
    // A measurement window: at the limit the accept loops wait instead of spinning.
    long before = cpu_ticks(d.process().pid());
    size_t warnings_before = count_of(d.process().output(), "accept: Too many open files");
    std::this_thread::sleep_for(3s);
    long ticks = cpu_ticks(d.process().pid()) - before;
    size_t warnings =
        count_of(d.process().output(), "accept: Too many open files") - warnings_before;
    long hz = ::sysconf(_SC_CLK_TCK);
    std::printf("at the fd limit: %ld of %ld ticks of CPU in 3 s, %zu accept warnings\n", ticks,
                3 * hz, warnings);
    EXPECT_LT(ticks, hz) << "the daemon used " << ticks << " ticks of CPU in 3 s at the fd limit";
    EXPECT_LE(warnings, 4u) << "accept warnings in 3 s";
    flood.clear();
    // Once descriptors are free again, new clients are served.
    for (auto end = clock_type::now() + 20s; clock_type::now() < end;) {
        try {
            rpc_test_client c(d.rpc_port());
            json r = c.call("target.status", json::object(), 5s);
            if (r.contains("result"))
                break;
        } catch (const std::exception&) {
        }
    }
    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
}

TEST(hostile, unread_batches_are_bounded_and_the_kernel_is_shared_fairly) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();

    // 20 connections, each sending 50 batches of 100 kernel calls and reading nothing.
    const std::string batch = batch_of(100, "process.list") + "\n";
    std::vector<std::unique_ptr<raw_socket>> flood;
    for (int i = 0; i < 20; i++)
        flood.push_back(std::make_unique<raw_socket>(d.rpc_port(), 4096));
    std::vector<std::thread> senders;
    for (auto& s : flood) {
        senders.emplace_back([&s, &batch] {
            for (int i = 0; i < 50; i++) {
                if (!s->send(batch))
                    break;
            }
        });
    }
    // Meanwhile another client's kernel calls are answered, not timed out.
    int answered = 0;
    for (int i = 0; i < 20; i++) {
        json r = c.call("process.list", json::object(), 15s);
        EXPECT_TRUE(r.contains("result")) << r.dump();
        answered += r.contains("result");
    }
    EXPECT_EQ(answered, 20);
    expect_rss_bounded(d);
    for (auto& s : flood)
        ::shutdown(s->fd(), SHUT_RDWR);
    for (auto& t : senders)
        t.join();
    flood.clear();
    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
}

// One connection's pile of kernel calls does not starve another's: a client that pipelines 1000
// calls (line-framed, one write) has only a few of them in the kernel channel at a time, so
// another client's call, sent after the pile started, is answered while most of the pile is
// still unanswered. Without the per-connection limits the whole pile enters the channel first.
TEST(hostile, one_connections_pile_of_calls_does_not_starve_another) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();

    constexpr int pile = 1000;
    std::string calls;
    for (int i = 1; i <= pile; i++)
        calls +=
            R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"process.list"})" + "\n";
    raw_socket a(d.rpc_port());
    ASSERT_TRUE(a.send(calls));
    // The pile has started: its first answer is here.
    std::string answers = a.read_for(20s, "\"id\":");
    ASSERT_NE(answers.find("\"id\":"), std::string::npos) << d.process().output();

    json other = c.call("process.list", json::object(), 20s);
    ASSERT_TRUE(other.contains("result")) << other.dump();
    // What the pile had been answered by then: everything the daemon wrote to `a` so far.
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(a.fd(), buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            break;
        answers.append(buf, static_cast<size_t>(n));
    }
    size_t answered_before = count_of(answers, "\"id\":");
    EXPECT_LT(answered_before, static_cast<size_t>(pile / 2))
        << "the other client's call waited behind " << answered_before << " calls of the pile";

    // Nothing of the pile is lost: every call is answered in the end.
    for (auto end = clock_type::now() + 60s;
         count_of(answers, "\"id\":") < static_cast<size_t>(pile) && clock_type::now() < end;)
        answers += a.read_for(1s);
    EXPECT_EQ(count_of(answers, "\"id\":"), static_cast<size_t>(pile));
    expect_rss_bounded(d);
}

// The policy: process.kill also kills a process a gdb client debugs, and the gdb session is told
// cleanly: its next resume gets the exit reply, and it can start a new process.
TEST(hostile, process_kill_of_a_process_gdb_debugs_ends_it_cleanly_for_gdb) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();

    raw_socket g(d.rsp_port());
    ASSERT_TRUE(g.send("+" + rsp_packet("QStartNoAckMode")));
    ASSERT_NE(g.read_for(10s, "OK").find("OK"), std::string::npos);
    ASSERT_TRUE(g.send(rsp_packet("!")));
    ASSERT_NE(g.read_for(10s, "OK").find("OK"), std::string::npos);
    auto run_spin = [&]() -> int64_t {
        if (!g.send(rsp_packet("vRun;" + ruprobes::rsp::string_to_hex("/bin/spin"))))
            return -1;
        std::string stop = g.read_for(20s, "#");
        std::smatch m;
        if (!std::regex_search(stop, m, std::regex("thread:p([0-9a-f]+)\\.")))
            return -1;
        return std::stoll(m[1], nullptr, 16);
    };
    int64_t pid = run_spin();
    ASSERT_GT(pid, 0);

    json killed = c.call("process.kill", {{"pid", pid}});
    ASSERT_TRUE(killed.contains("result")) << killed.dump();
    EXPECT_EQ(killed["result"]["pid"], pid);

    // gdb's next resume gets the exit reply of that process, not an error.
    ASSERT_TRUE(g.send(rsp_packet("vCont;c")));
    std::string exit_reply = g.read_for(20s, "#");
    char pid_hex[32];
    std::snprintf(pid_hex, sizeof pid_hex, "%llx", static_cast<unsigned long long>(pid));
    EXPECT_NE(exit_reply.find("$X"), std::string::npos) << exit_reply;
    EXPECT_NE(exit_reply.find(std::string("process:") + pid_hex), std::string::npos) << exit_reply;

    // The session runs a new process; nothing is left stopped without an owner.
    int64_t again = run_spin();
    EXPECT_GT(again, 0);
    EXPECT_NE(again, pid);
    char again_hex[32];
    std::snprintf(again_hex, sizeof again_hex, "%llx", static_cast<unsigned long long>(again));
    ASSERT_TRUE(g.send(rsp_packet("vKill;" + std::string(again_hex))));
    EXPECT_NE(g.read_for(10s, "OK").find("OK"), std::string::npos);

    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
}

// The exit status of `pid` from the process.exit notifications of `c` (subscribed to them).
std::optional<int> exit_status(rpc_test_client& c, int64_t pid, std::chrono::milliseconds timeout) {
    for (auto end = clock_type::now() + timeout; clock_type::now() < end;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now());
        auto n = next_notification(c, left);
        if (!n)
            break;
        if ((*n)["method"] == "process.exit" && (*n)["params"]["pid"] == pid)
            return (*n)["params"]["status"].get<int>();
    }
    return std::nullopt;
}

// argv stays a list from JSON-RPC to the program: an argument with a space stays one argument,
// an empty one stays. fib N EXPECTED exits 3 when EXPECTED is given and differs.
TEST(hostile, spawn_argv_stays_a_list) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    c.call("events.subscribe", {{"kinds", {"process.exit"}}});
    auto run = [&](json argv) -> std::optional<int> {
        json p = c.call("process.spawn", {{"argv", argv}});
        if (!p.contains("result")) {
            ADD_FAILURE() << p.dump();
            return std::nullopt;
        }
        return exit_status(c, p["result"]["pid"].get<int64_t>(), 30s);
    };
    EXPECT_EQ(run({"/bin/fib", "10 1"}), 0);     // one argument "10 1": fib(10), nothing expected
    EXPECT_EQ(run({"/bin/fib", "5", ""}), 3);    // an empty EXPECTED is 0, not fib(5)
    EXPECT_EQ(run({"/bin/fib", "10", "55"}), 0); // plain arguments as before
    EXPECT_EQ(run({"/bin/fib", "10", "54"}), 3);
    json too_many = c.call("process.spawn", {{"argv", json(std::vector<std::string>(20, "1"))}});
    EXPECT_TRUE(too_many.contains("error")) << too_many.dump();
    expect_normal_sessions(dir, d);
}

// The daemon paused past the kernel's 10 s lease: the kernel ends the session. The daemon notices,
// says hello again, tells its clients (target.disconnected, then target.connected), keeps its
// probes working, and the gdb client whose process it held gets a clean end.
TEST(hostile, a_session_ended_by_the_lease_is_recovered) {
    temp_dir dir;
    rpc_daemon d(dir, "", "ruprobesd");
    rpc_test_client c(d.rpc_port());
    ASSERT_FALSE(wait_target_connected(c).empty()) << d.process().output();
    json probe = c.call("probe.add", {{"program", "/bin/fib"}, {"symbol", "fib"}});
    ASSERT_TRUE(probe.contains("result")) << probe.dump();
    c.call("events.subscribe",
           {{"kinds", {"target.connected", "target.disconnected", "probe.hit", "events.lost"}}});

    // A gdb client holds a process stopped at its entry, then continues it.
    raw_socket g(d.rsp_port());
    ASSERT_TRUE(g.send("+" + rsp_packet("QStartNoAckMode")));
    ASSERT_NE(g.read_for(10s, "OK").find("OK"), std::string::npos);
    ASSERT_TRUE(g.send(rsp_packet("vRun;" + ruprobes::rsp::string_to_hex("/bin/spin"))));
    ASSERT_NE(g.read_for(20s, "#").find("$T05"), std::string::npos);
    ASSERT_TRUE(g.send(rsp_packet("vCont;c")));
    // The daemon has handled the continue once the process runs.
    bool running = false;
    for (auto end = clock_type::now() + 10s; !running && clock_type::now() < end;
         std::this_thread::sleep_for(50ms)) {
        json list = c.call("process.list");
        for (const json& p : list["result"]["processes"])
            running = running || (p["program"] == "/bin/spin" && p["state"] == "running");
    }
    ASSERT_TRUE(running);

    ASSERT_EQ(::kill(d.process().pid(), SIGSTOP), 0);
    ASSERT_TRUE(wait_for_text(dir.file("console.log"), "session ended (lease expired)", 30s))
        << read_text(dir.file("console.log"));
    ASSERT_EQ(::kill(d.process().pid(), SIGCONT), 0);

    auto down = c.wait_notification("target.disconnected", 20s);
    ASSERT_TRUE(down) << d.process().output();
    auto up = c.wait_notification("target.connected", 20s);
    ASSERT_TRUE(up) << d.process().output();
    json status = c.call("target.status");
    EXPECT_EQ(status["result"]["connected"], true) << status.dump();

    // gdb is told its process is gone (X: killed) instead of waiting forever.
    std::string end = g.read_for(20s, "#");
    EXPECT_NE(end.find("$X"), std::string::npos) << end;

    // Kernel calls work again, and the probe still reports hits.
    c.notifications.clear();
    json p = c.call("process.spawn", {{"argv", {"/bin/fib", "5"}}});
    ASSERT_TRUE(p.contains("result")) << p.dump();
    hit_count h = read_hits(c, probe["result"]["id"], p["result"]["pid"], 15, 30s);
    EXPECT_EQ(h.hits, 15);
    c.call("probe.remove", {{"id", probe["result"]["id"]}});
    expect_rss_bounded(d);
    expect_normal_sessions(dir, d);
}

} // namespace
} // namespace ruprobes::test
