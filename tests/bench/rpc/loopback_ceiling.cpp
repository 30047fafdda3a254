// Loopback TCP ceiling: a forked writer, N sockets, the benchmark's reader.
#include "loopback_ceiling.hpp"

#include "fanout_reader.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ruprobes::bench {

namespace {

void fail(const char* what) {
    std::perror(what);
    std::exit(1);
}

// Sends block[offset, end) to `fd`: from memory, or (file >= 0) from the file holding `block`.
ssize_t send_block(int fd, const std::string& block, std::size_t offset, int file) {
    if (file < 0) {
        return ::send(fd, block.data() + offset, block.size() - offset,
                      MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    auto position = static_cast<off_t>(offset);
    return ::sendfile(fd, file, &position, block.size() - offset);
}

// Writes `block` round robin to every socket until `duration` is over, then closes them.
[[noreturn]] void writer(const std::vector<int>& fds, const std::string& block,
                         std::chrono::milliseconds duration, bool from_file) {
    ::signal(SIGPIPE, SIG_IGN); // sendfile() has no MSG_NOSIGNAL
    int file = -1;
    if (from_file) {
        file = ::memfd_create("ceiling", MFD_CLOEXEC);
        if (file < 0 ||
            ::pwrite(file, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()))
            ::_exit(1);
    }
    std::vector<std::size_t> offset(fds.size(), 0);
    std::vector<pollfd> pfds;
    for (int fd : fds) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        pfds.push_back({fd, POLLOUT, 0});
    }
    auto end = clock_type::now() + duration;
    while (clock_type::now() < end) {
        if (::poll(pfds.data(), pfds.size(), 10) <= 0)
            continue;
        for (std::size_t i = 0; i < fds.size(); i++) {
            if (!(pfds[i].revents & POLLOUT))
                continue;
            // The block holds whole lines, so sending from any offset and wrapping around keeps
            // the stream a sequence of whole lines.
            ssize_t n = send_block(fds[i], block, offset[i], file);
            if (n > 0)
                offset[i] = (offset[i] + static_cast<std::size_t>(n)) % block.size();
            else if (n < 0 && errno != EAGAIN)
                ::_exit(1);
        }
    }
    // Finish the line each stream is in, so the readers count whole lines only.
    for (std::size_t i = 0; i < fds.size(); i++) {
        ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) & ~O_NONBLOCK);
        std::size_t line = block.find('\n', offset[i]);
        if (offset[i] != 0 && line != std::string::npos)
            (void)!::send(fds[i], block.data() + offset[i], line + 1 - offset[i], MSG_NOSIGNAL);
        ::close(fds[i]);
    }
    ::_exit(0);
}

pid_t spawn_spinner() {
    pid_t pid = ::fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        volatile uint64_t x = 0;
        for (;;)
            x = x + 1;
    }
    return pid;
}

} // namespace

std::string sample_hit_line(uint64_t seq, std::size_t length) {
    char text[512];
    std::snprintf(text, sizeof text,
                  R"({"jsonrpc":"2.0","method":"probe.hit","params":{"args":["0x%llx","0x1",)"
                  R"("0x3ffffffeb0","0x0","0x0","0x0","0x0","0x0"],"kind":"entry","offset":0,)"
                  R"("pc":"0x4000001a","pid":3,"probe":1,"ra":"0x40000058","seq":%llu,)"
                  R"("sp":"0x3fffffff70","symbol":"step","tid":3,"time_ns":%llu}})"
                  "\n",
                  static_cast<unsigned long long>(seq % 200000),
                  static_cast<unsigned long long>(seq),
                  static_cast<unsigned long long>(1000000000 + seq * 9000));
    std::string line = text;
    if (line.size() < length) // spaces between JSON tokens: the same value, a longer line
        line.insert(line.size() - 3, length - line.size(), ' ');
    return line;
}

ceiling_result measure_ceiling(int readers, std::chrono::milliseconds duration, bool core_busy,
                               bool from_file, std::size_t line_bytes) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener, 512) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        fail("listen");
    std::vector<stream_count> streams(static_cast<std::size_t>(readers));
    std::vector<int> write_fds;
    for (auto& s : streams) {
        s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            fail("connect");
        int w = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (w < 0)
            fail("accept");
        int one = 1; // as the daemon's sessions
        ::setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        write_fds.push_back(w);
    }
    ::close(listener);

    std::string block;
    for (uint64_t seq = 1; block.size() < 256 * 1024; seq++)
        block += sample_hit_line(seq, line_bytes);

    pid_t spinner = core_busy ? spawn_spinner() : 0;
    pid_t child = ::fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        for (auto& s : streams)
            ::close(s.fd);
        writer(write_fds, block, duration, from_file);
    }
    for (int fd : write_fds)
        ::close(fd);

    fanout_reader reader(streams);
    double writer_cpu = 0; // seconds, once the writer has exited
    auto give_up = clock_type::now() + duration + std::chrono::seconds(10);
    while (clock_type::now() < give_up) {
        reader.pump(std::chrono::milliseconds(50));
        int status = 0;
        rusage usage{};
        if (::wait4(child, &status, WNOHANG, &usage) == child) {
            writer_cpu =
                static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
            while (reader.pump(std::chrono::milliseconds(50))) {
            }
            child = 0;
            break;
        }
    }
    if (child > 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    }
    if (spinner > 0) {
        ::kill(spinner, SIGKILL);
        ::waitpid(spinner, nullptr, 0);
    }

    ceiling_result r;
    r.readers = readers;
    r.core_busy = core_busy;
    r.from_file = from_file;
    r.line_bytes = sample_hit_line(123456, line_bytes).size();
    r.min_rate = 1e300;
    uint64_t lines = 0;
    for (auto& s : streams) {
        lines += s.hits;
        double rate = hit_rate(s);
        r.min_rate = std::min(r.min_rate, rate);
        r.mean_rate += rate / readers;
        ::close(s.fd);
    }
    r.writer_ns = lines ? 1e9 * writer_cpu / static_cast<double>(lines) : 0;
    return r;
}

} // namespace ruprobes::bench
