// bench_rpc_fanout [LOOP_CALLS]          QEMU: /bin/loop LOOP_CALLS (default 200000) under an
//                                        entry probe on step()
// bench_rpc_fanout --fake [MILLISECONDS] the fake target's /bin/loop for that long (default 2000)
//
// For 1, 10 and 100 subscribers (a fresh ruprobesd each round): every subscriber subscribes to
// probe.hit and events.lost, the probe streams, and each subscriber counts what it received.
// Prints per round: hits counted by the daemon, events/s delivered to each subscriber (min and
// mean), events announced lost, unaccounted events (hits - delivered - announced: must be 0),
// the kernel's own drops, and the daemon's peak RSS; then rate(N) / rate(1).
// Goal (issue 7): 100 subscribers receive >= 0.8 x the single-subscriber rate, no unaccounted
// loss.
#include "rpc_test_client.hpp"
#include "ruprobes_test/child_process.hpp"
#include "ruprobes_test/free_port.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/temp_dir.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace ruprobes::test;
using clock_type = std::chrono::steady_clock;

namespace {

struct subscriber {
    int fd = -1;
    std::string partial;
    uint64_t hits = 0;
    uint64_t lost = 0;
    uint64_t kernel_lost = 0;
    clock_type::time_point first, last; // first and last hit received
};

int connect_to(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    return fd;
}

// Counts the complete lines in `s.partial` after appending `data`; parses only loss notices.
void consume(subscriber& s, const char* data, std::size_t n, clock_type::time_point now) {
    s.partial.append(data, n);
    std::size_t start = 0;
    for (;;) {
        const char* nl = static_cast<const char*>(
            std::memchr(s.partial.data() + start, '\n', s.partial.size() - start));
        if (!nl)
            break;
        std::size_t end = static_cast<std::size_t>(nl - s.partial.data());
        std::string_view line(s.partial.data() + start, end - start);
        if (line.find("\"method\":\"probe.hit\"") != std::string_view::npos) {
            if (s.hits++ == 0)
                s.first = now;
            s.last = now;
        } else if (line.find("\"method\":\"events.lost\"") != std::string_view::npos) {
            json j = json::parse(line);
            uint64_t count = j["params"]["count"];
            if (j["params"]["reason"] == "kernel_ring_full")
                s.kernel_lost += count;
            else
                s.lost += count;
        }
        start = end + 1;
    }
    s.partial.erase(0, start);
}

// Reads whatever the subscribers have for up to `timeout`; false when nothing came.
bool pump(std::vector<subscriber>& subs, std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds;
    for (auto& s : subs)
        fds.push_back({s.fd, POLLIN, 0});
    int r = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (r <= 0)
        return false;
    auto now = clock_type::now();
    static char buf[1 << 16];
    for (std::size_t i = 0; i < fds.size(); i++) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = ::recv(subs[i].fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            consume(subs[i], buf, static_cast<std::size_t>(n), now);
    }
    return true;
}

uint64_t peak_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (in >> key) {
        if (key == "VmHWM:") {
            uint64_t v = 0;
            in >> v;
            return v;
        }
        in.ignore(1 << 10, '\n');
    }
    return 0;
}

struct round_result {
    int subscribers = 0;
    uint64_t hits = 0;
    double min_rate = 0, mean_rate = 0;
    uint64_t lost = 0, kernel_lost = 0;
    int64_t unaccounted = 0;
    int64_t extra = 0; // hits received beyond the daemon's final count (arrived after removal)
    uint64_t rss_kib = 0;
};

round_result run_round(int n, bool fake, uint64_t amount) {
    temp_dir dir;
    uint16_t port = free_tcp_port();
    spawn_options o;
    o.argv = {std::string(bin_dir) + "/ruprobesd", "--rsp-listen",
              "127.0.0.1:" + std::to_string(free_tcp_port()), "--rpc-listen",
              "127.0.0.1:" + std::to_string(port)};
    if (fake) {
        // An empty symbols dir: the fake's /bin/loop is not the guest's build/guest/user/loop.
        o.argv.insert(o.argv.end(), {"--fake-target", "--symbols", dir.path()});
    } else {
        o.argv.insert(o.argv.end(), {"--launch", kernel_elf, "--qemu-log", dir.file("console.log"),
                                     "--symbols", user_dir});
    }
    o.output_file = dir.file("ruprobesd.log");
    child_process daemon(o);
    if (!daemon.wait_for_output("JSON-RPC server listening", 20s)) {
        std::fprintf(stderr, "ruprobesd did not start:\n%s\n", daemon.output().c_str());
        std::exit(1);
    }
    rpc_test_client control(port);
    auto deadline = clock_type::now() + 30s;
    for (;;) {
        try {
            if (control.call("target.status")["result"]["connected"] == true)
                break;
        } catch (const std::exception&) {
        }
        if (clock_type::now() > deadline) {
            std::fprintf(stderr, "the target never connected:\n%s\n", daemon.output().c_str());
            std::exit(1);
        }
        std::this_thread::sleep_for(100ms);
    }

    std::vector<subscriber> subs(static_cast<std::size_t>(n));
    for (auto& s : subs) {
        s.fd = connect_to(port);
        std::string req = R"({"jsonrpc":"2.0","id":1,"method":"events.subscribe",)"
                          R"("params":{"kinds":["probe.hit","events.lost"]}})"
                          "\n";
        (void)!::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL);
        char buf[512];
        ssize_t got = ::recv(s.fd, buf, sizeof buf, 0); // the subscribe response
        (void)got;
    }
    json probe = fake ? control.call("probe.add", {{"program", "/bin/loop"}, {"address", 0x10006}})
                      : control.call("probe.add", {{"program", "/bin/loop"}, {"symbol", "step"}});
    if (!probe.contains("result")) {
        std::fprintf(stderr, "probe.add failed: %s\n", probe.dump().c_str());
        std::exit(1);
    }
    uint64_t id = probe["result"]["id"];
    control.call("events.subscribe", {{"kinds", {"process.exit"}}});
    std::vector<std::string> argv = {"/bin/loop"};
    if (!fake)
        argv.push_back(std::to_string(amount));
    auto start = clock_type::now();
    json proc = control.call("process.spawn", {{"argv", argv}});
    int64_t pid = proc["result"]["pid"];

    // Stream until the program exits (QEMU) or the time is up (fake), then stop the probe.
    auto end_at = start + std::chrono::milliseconds(fake ? amount : 600000);
    bool exited = false;
    while (!exited && clock_type::now() < end_at) {
        pump(subs, 10ms);
        if (!fake && control.wait_notification("process.exit", 0ms))
            exited = true;
    }
    if (fake)
        control.call("process.kill", {{"pid", pid}});
    // The source has stopped: wait until the daemon's hit count settles (hits still in flight
    // from the kernel), then remove the probe; its final count is what every subscriber must
    // account for (delivered + announced lost).
    uint64_t settled = 0;
    int stable = 0;
    for (auto settle = clock_type::now() + 10s; clock_type::now() < settle && stable < 5;) {
        pump(subs, 100ms);
        uint64_t now_hits = control.call("probe.list")["result"]["probes"][0]["hits"];
        stable = now_hits == settled && settled > 0 ? stable + 1 : 0;
        settled = now_hits;
    }
    uint64_t hits = control.call("probe.remove", {{"id", id}})["result"]["hits"];
    // Drain: every subscriber gets what was queued for it.
    auto quiet_until = clock_type::now() + 2s;
    while (clock_type::now() < quiet_until) {
        bool all = std::all_of(subs.begin(), subs.end(),
                               [&](const subscriber& s) { return s.hits + s.lost >= hits; });
        if (all)
            break;
        if (pump(subs, 50ms))
            quiet_until = std::max(quiet_until, clock_type::now() + 500ms);
    }

    round_result r;
    r.subscribers = n;
    r.hits = hits;
    r.min_rate = 1e300;
    for (auto& s : subs) {
        // The streaming window of this subscriber: first to last hit it received.
        double secs = std::chrono::duration<double>(s.last - s.first).count();
        double rate = secs > 0 ? static_cast<double>(s.hits) / secs : 0;
        r.min_rate = std::min(r.min_rate, rate);
        r.mean_rate += rate / n;
        r.lost += s.lost;
        r.kernel_lost = std::max(r.kernel_lost, s.kernel_lost);
        // Kernel drops never reached the daemon (they are not in `hits`): reported apart. Hits
        // the kernel delivered after the probe was removed are extra, not loss.
        int64_t missing = static_cast<int64_t>(hits) - static_cast<int64_t>(s.hits + s.lost);
        if (missing > 0)
            r.unaccounted += missing;
        else
            r.extra += -missing;
        ::close(s.fd);
    }
    r.rss_kib = peak_rss_kib(daemon.pid());
    daemon.stop();
    return r;
}

} // namespace

int main(int argc, char** argv) {
    bool fake = argc > 1 && std::strcmp(argv[1], "--fake") == 0;
    const char* amount_arg = fake ? (argc > 2 ? argv[2] : nullptr) : (argc > 1 ? argv[1] : nullptr);
    uint64_t amount = amount_arg ? std::strtoull(amount_arg, nullptr, 0) : (fake ? 2000 : 200000);
    std::printf("JSON-RPC fan-out: %s, %s\n",
                fake ? "fake target /bin/loop" : "QEMU /bin/loop, entry probe on step()",
                fake ? (std::to_string(amount) + " ms per round").c_str()
                     : (std::to_string(amount) + " calls per round").c_str());
    std::printf("%5s %10s %14s %14s %12s %10s %10s %12s %10s\n", "subs", "hits", "min ev/s/sub",
                "mean ev/s/sub", "total ev/s", "lost", "kern.lost", "unaccounted", "peak RSS");
    std::vector<round_result> results;
    for (int n : {1, 10, 100}) {
        round_result r = run_round(n, fake, amount);
        std::printf("%5d %10llu %14.0f %14.0f %12.0f %10llu %10llu %12lld %8llu KiB\n",
                    r.subscribers, static_cast<unsigned long long>(r.hits), r.min_rate, r.mean_rate,
                    r.mean_rate * r.subscribers, static_cast<unsigned long long>(r.lost),
                    static_cast<unsigned long long>(r.kernel_lost),
                    static_cast<long long>(r.unaccounted),
                    static_cast<unsigned long long>(r.rss_kib));
        std::fflush(stdout);
        results.push_back(r);
    }
    double base = results[0].min_rate;
    for (const round_result& r : results) {
        std::printf("ratio rate(%d subscribers) / rate(1) = %.2f (min over subscribers)\n",
                    r.subscribers, base > 0 ? r.min_rate / base : 0.0);
    }
    bool accounted = std::all_of(results.begin(), results.end(),
                                 [](const round_result& r) { return r.unaccounted == 0; });
    int64_t extra = 0;
    for (const round_result& r : results)
        extra += r.extra;
    std::printf("unaccounted loss: %s (late hits beyond the final count: %lld); "
                "goal rate(100)/rate(1) >= 0.80: %s\n",
                accounted ? "none" : "SOME", static_cast<long long>(extra),
                results[2].min_rate >= 0.8 * base ? "met" : "not met");
    return accounted ? 0 : 1;
}
