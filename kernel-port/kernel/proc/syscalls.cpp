#include "proc/syscalls.hpp"

#include "arch/riscv64/timer.hpp"
#include "lib/console.hpp"
#include "mm/user_memory.hpp"
#include "proc/errno.hpp"
#include "proc/lifecycle.hpp"
#include "proc/scheduler.hpp"

namespace {

unsigned long handled = 0;

struct user_timespec {
    int64_t sec;
    int64_t nsec;
};

long sys_write(process* p, long fd, uint64_t buf, uint64_t len) {
    if (fd != 1 && fd != 2) {
        return -err::inval;
    }
    char chunk[256];
    for (uint64_t done = 0; done < len;) {
        const uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        if (!copy_from_user(p->page_table, chunk, buf + done, n)) {
            return done > 0 ? static_cast<long>(done) : -err::fault;
        }
        console_write(chunk, n);
        done += n;
    }
    return static_cast<long>(len);
}

long sys_nanosleep(process* p, uint64_t req_va) {
    user_timespec req;
    if (!copy_from_user(p->page_table, &req, req_va, sizeof(req))) {
        return -err::fault;
    }
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1'000'000'000) {
        return -err::inval;
    }
    const uint64_t ns = static_cast<uint64_t>(req.sec) * 1'000'000'000 + req.nsec;
    const uint64_t deadline = timer_now() + timer_ns_to_ticks(ns) + 1;
    while (timer_now() < deadline && !p->killed) {
        sleep_on(nullptr, deadline);
    }
    return p->killed ? -err::intr : 0;
}

long sys_clock_gettime(process* p, uint64_t ts_va) {
    const uint64_t ns = timer_ticks_to_ns(timer_now());
    user_timespec ts{static_cast<int64_t>(ns / 1'000'000'000),
                     static_cast<int64_t>(ns % 1'000'000'000)};
    return copy_to_user(p->page_table, ts_va, &ts, sizeof(ts)) ? 0 : -err::fault;
}

long sys_execve(process* p, uint64_t path_va, uint64_t argv_va) {
    char path[128];
    if (copy_string_from_user(p->page_table, path, path_va, sizeof(path)) < 0) {
        return -err::fault;
    }
    // Arguments are packed into one buffer: the old image goes away before the new one starts.
    char strings[max_exec_arg_bytes];
    const char* argv[max_exec_args];
    int argc = 0;
    size_t used = 0;
    for (; argv_va != 0; argc++) {
        uint64_t arg_va = 0;
        if (!copy_from_user(p->page_table, &arg_va, argv_va + argc * sizeof(uint64_t),
                            sizeof(arg_va))) {
            return -err::fault;
        }
        if (arg_va == 0) {
            break;
        }
        if (argc == max_exec_args) {
            return -err::too_big;
        }
        const long len =
            copy_string_from_user(p->page_table, strings + used, arg_va, sizeof(strings) - used);
        if (len < 0) {
            return -err::too_big;
        }
        argv[argc] = strings + used;
        used += static_cast<size_t>(len) + 1;
    }
    if (argc == 0) {
        argv[argc++] = path;
    }
    return process_exec(p, path, argc, argv);
}

long sys_wait4(process* p, long pid, uint64_t status_va, long options) {
    int status = 0;
    const long r = process_wait(p, static_cast<int>(pid), &status, (options & 1) != 0);
    if (r > 0 && status_va != 0 && !copy_to_user(p->page_table, status_va, &status, 4)) {
        return -err::fault;
    }
    return r;
}

} // namespace

void syscall_dispatch(process* p, trap_frame& f) {
    handled++;
    const uint64_t a0 = f.a(0), a1 = f.a(1), a2 = f.a(2);
    long r;
    switch (f.x[reg::a7]) {
    case sys::write:
        r = sys_write(p, static_cast<long>(a0), a1, a2);
        break;
    case sys::exit:
    case sys::exit_group:
        process_exit(p, wait_status_exited(static_cast<int>(a0)));
    case sys::nanosleep:
        r = sys_nanosleep(p, a0);
        break;
    case sys::clock_gettime:
        r = sys_clock_gettime(p, a1);
        break;
    case sys::sched_yield:
        yield();
        r = 0;
        break;
    case sys::kill:
        r = process_kill(static_cast<int>(a0), static_cast<int>(a1));
        break;
    case sys::getpid:
    case sys::gettid:
        r = p->pid;
        break;
    case sys::getppid:
        r = p->parent != nullptr ? p->parent->pid : 0;
        break;
    case sys::clone:
        r = process_fork(p);
        break;
    case sys::execve:
        r = sys_execve(p, a0, a1);
        break;
    case sys::wait4:
        r = sys_wait4(p, static_cast<long>(a0), a1, static_cast<long>(a2));
        break;
    default:
        r = -err::nosys;
        break;
    }
    f.a(0) = static_cast<uint64_t>(r);
}

unsigned long syscall_count() {
    return handled;
}
