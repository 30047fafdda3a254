#include "proc/init.hpp"

#include "arch/riscv64/sbi.hpp"
#include "boot/command_line.hpp"
#include "lib/console.hpp"
#include "lib/string.hpp"
#include "mm/frame_allocator.hpp"
#include "proc/errno.hpp"
#include "proc/lifecycle.hpp"
#include "proc/scheduler.hpp"
#include "proc/smp.hpp"
#include "selftest/boot_checks.hpp"

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// Splits `line` in place into words; a final "&" word (or a trailing '&') sets `background`.
int split_words(char* line, const char* argv[], int max, bool& background) {
    background = false;
    size_t len = kstrlen(line);
    if (len > 0 && line[len - 1] == '&') {
        background = true;
        line[--len] = '\0';
    }
    int argc = 0;
    char* p = line;
    while (*p != '\0') {
        while (is_space(*p)) {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (argc == max) {
            return -1;
        }
        argv[argc++] = p;
        while (*p != '\0' && !is_space(*p)) {
            p++;
        }
    }
    return argc;
}

// Runs one command; returns its exit code (0 for a background start), 127 when it cannot start.
int run_command(process* self, const char* command) {
    char line[256];
    kstrlcpy(line, command, sizeof(line));
    const char* argv[max_exec_args];
    bool background = false;
    const int argc = split_words(line, argv, max_exec_args, background);
    if (argc <= 0) {
        kprintf("init: bad command '%s'\n", command);
        return 127;
    }
    const long pid = process_spawn(self, argv[0], argc, argv);
    if (pid < 0) {
        kprintf("init: cannot start '%s' (error %ld)\n", command, -pid);
        return 127;
    }
    if (background) {
        kprintf("init: pid %ld (%s) started in the background\n", pid, argv[0]);
        return 0;
    }
    kprintf("init: pid %ld (%s) started\n", pid, argv[0]);
    int status = 0;
    process_wait(self, static_cast<int>(pid), &status, false);
    const int code = wait_status_to_code(status);
    kprintf("init: pid %ld (%s) exited with status %d\n", pid, argv[0], code);
    return code;
}

// Kills every user process still running as init's child and reaps them all.
void end_children(process* self) {
    for (process* q = process_slots_begin(); q != process_slots_end(); q++) {
        if (q->parent == self && q->state != process_state::unused &&
            q->state != process_state::zombie && !q->kernel_thread) {
            kprintf("init: killing pid %d (%s)\n", q->pid, q->name);
            process_kill(q->pid, sig::kill);
        }
    }
    int status = 0;
    long pid;
    while ((pid = process_wait(self, -1, &status, false)) > 0) {
    }
}

} // namespace

void init_main(void*) {
    process* self = current_process();
    const size_t frames_at_start = free_frame_count();
    int status = run_boot_checks();
    for (int i = 0; i < command_count(); i++) {
        const int code = run_command(self, command_at(i));
        if (status == 0 && code != 0) {
            status = code;
        }
    }
    if (kernel_flag("ruprobes.stay")) {
        kprintf("init: commands done (status %d), staying up\n", status);
        for (;;) {
            int ignored = 0;
            if (process_wait(self, -1, &ignored, false) == -err::child) {
                sleep_on(self);
            }
        }
    }
    end_children(self);
    // Every process is gone: all their frames (pages, page tables) must be back.
    kprintf("init: %ld frames not returned by exited processes\n",
            static_cast<long>(frames_at_start) - static_cast<long>(free_frame_count()));
    smp_report();
    kprintf("init: done, powering off with status %d\n", status);
    sbi::shutdown(status);
}
