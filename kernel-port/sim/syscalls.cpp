// The system calls of the user runtime (kernel-port/user/runtime/syscall.c), Linux riscv64
// numbers: number in a7, arguments in a0..a5, result in a0 (negative: -errno). Everything else
// is -ENOSYS.
#include "sim_kernel.hpp"

namespace sim {

namespace {

namespace nr {
constexpr uint64_t write = 64, exit = 93, exit_group = 94, nanosleep = 101, clock_gettime = 113,
                   sched_yield = 124, kill = 129, getpid = 172, getppid = 173, gettid = 178,
                   clone = 220, execve = 221, wait4 = 260;
}

constexpr size_t max_string = 256;
constexpr size_t max_args = 16;

struct user_timespec {
    int64_t sec;
    int64_t nsec;
};

// A NUL-terminated string of at most max_string bytes at `addr`; false when unreadable or longer.
bool read_string(process& p, uint64_t addr, std::string& out) {
    out.clear();
    for (size_t i = 0; i < max_string; i++) {
        char c;
        if (!p.memory.read(addr + i, &c, 1, perm::read)) {
            return false;
        }
        if (c == '\0') {
            return true;
        }
        out.push_back(c);
    }
    return false;
}

long sys_write(kernel& k, process& p, uint64_t fd, uint64_t buf, uint64_t len) {
    if (fd != 1 && fd != 2) {
        return -err::inval;
    }
    std::string text;
    char chunk[256];
    for (uint64_t done = 0; done < len;) {
        const uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (!p.memory.read(buf + done, chunk, n, perm::read)) {
            if (done == 0) {
                return -err::fault;
            }
            len = done;
            break;
        }
        text.append(chunk, n);
        done += n;
    }
    k.console_write(text);
    return static_cast<long>(len);
}

long sys_nanosleep(process& p, uint64_t req_addr) {
    user_timespec req;
    if (!p.memory.read(req_addr, &req, sizeof req, perm::read)) {
        return -err::fault;
    }
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1'000'000'000) {
        return -err::inval;
    }
    p.wake_ns = monotonic_ns() + static_cast<uint64_t>(req.sec) * 1'000'000'000u +
                static_cast<uint64_t>(req.nsec);
    p.state = process_state::sleeping;
    return 0;
}

long sys_clock_gettime(process& p, uint64_t ts_addr) {
    const uint64_t ns = monotonic_ns();
    const user_timespec ts{static_cast<int64_t>(ns / 1'000'000'000),
                           static_cast<int64_t>(ns % 1'000'000'000)};
    return p.memory.write(ts_addr, &ts, sizeof ts, perm::write) ? 0 : -err::fault;
}

long sys_execve(kernel& k, process& p, uint64_t path_addr, uint64_t argv_addr) {
    std::string path;
    if (!read_string(p, path_addr, path)) {
        return -err::fault;
    }
    std::vector<std::string> argv;
    for (; argv_addr != 0; argv_addr += 8) {
        uint64_t arg = 0;
        if (!p.memory.read(argv_addr, &arg, 8, perm::read)) {
            return -err::fault;
        }
        if (arg == 0) {
            break;
        }
        if (argv.size() == max_args) {
            return -err::too_big;
        }
        argv.emplace_back();
        if (!read_string(p, arg, argv.back())) {
            return -err::fault;
        }
    }
    if (argv.empty()) {
        argv.push_back(path);
    }
    return k.exec(p, path, argv);
}

// wait4(pid, status, options): a zombie child is reaped; without one the process waits and runs
// the ecall again when a child exits (pc back on the ecall).
long sys_wait4(kernel& k, process& p, int64_t pid, uint64_t status_addr, uint64_t options) {
    bool have_child = false;
    for (process* q : k.children(p.pid)) {
        if (pid != -1 && q->pid != static_cast<uint64_t>(pid)) {
            continue;
        }
        have_child = true;
        if (q->state != process_state::zombie) {
            continue;
        }
        const int32_t status = q->wait_status;
        if (status_addr != 0 && !p.memory.write(status_addr, &status, 4, perm::write)) {
            return -err::fault;
        }
        const long reaped = q->pid;
        k.reap(*q);
        return reaped;
    }
    if (!have_child) {
        return -err::child;
    }
    if ((options & 1) != 0) { // WNOHANG
        return 0;
    }
    p.state = process_state::waiting;
    p.regs.pc -= 4;
    return static_cast<long>(p.regs.x[10]); // a0 unchanged: the ecall runs again
}

} // namespace

void dispatch_syscall(kernel& k, process& p) {
    uint64_t* x = p.regs.x;
    const uint64_t a0 = x[10], a1 = x[11], a2 = x[12];
    long r;
    switch (x[17]) {
    case nr::write:
        r = sys_write(k, p, a0, a1, a2);
        break;
    case nr::exit:
    case nr::exit_group:
        k.exit_process(p, static_cast<int>(a0 & 0xff) << 8);
        return;
    case nr::nanosleep:
        r = sys_nanosleep(p, a0);
        break;
    case nr::clock_gettime:
        r = sys_clock_gettime(p, a1);
        break;
    case nr::sched_yield:
        k.yield();
        r = 0;
        break;
    case nr::kill:
        r = k.kill(static_cast<uint32_t>(a0), static_cast<int>(a1));
        break;
    case nr::getpid:
    case nr::gettid:
        r = p.pid;
        break;
    case nr::getppid:
        r = p.ppid;
        break;
    case nr::clone:
        r = k.fork(p);
        break;
    case nr::execve:
        r = sys_execve(k, p, a0, a1);
        break;
    case nr::wait4:
        r = sys_wait4(k, p, static_cast<int64_t>(a0), a1, a2);
        break;
    default:
        r = -err::nosys;
        break;
    }
    x[10] = static_cast<uint64_t>(r);
}

} // namespace sim
