#include "selftest/selftest_support.hpp"

#include "arch/riscv64/timer.hpp"
#include "lib/string.hpp"
#include "mm/user_memory.hpp"
#include "proc/elf_loader.hpp"
#include "proc/lifecycle.hpp"
#include "proc/process.hpp"
#include "proc/scheduler.hpp"
#include "programs.hpp"

namespace {

constexpr uint64_t fnv_offset = 0xcbf29ce484222325ull;
constexpr uint64_t fnv_prime = 0x100000001b3ull;

uint64_t fnv(uint64_t h, const uint8_t* data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ data[i]) * fnv_prime;
    }
    return h;
}

} // namespace

long start_program(const char* command) {
    char line[128];
    kstrlcpy(line, command, sizeof(line));
    const char* argv[max_exec_args];
    int argc = 0;
    for (char* p = line; *p != '\0' && argc < max_exec_args;) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
    }
    if (argc == 0) {
        return -1;
    }
    return process_spawn(current_process(), argv[0], argc, argv);
}

int finish_program(long pid) {
    int status = 0;
    if (process_wait(current_process(), static_cast<int>(pid), &status, false) != pid) {
        return -1;
    }
    return wait_status_to_code(status);
}

int finish_program_on(long pid, uint32_t& harts) {
    process* self = current_process();
    process* q = find_process(static_cast<int>(pid));
    while (q != nullptr && q->pid == pid && q->state != process_state::zombie) {
        sleep_on(self); // process_exit wakes the parent
    }
    if (q != nullptr && q->pid == pid) {
        harts |= q->harts_run_on;
    }
    return finish_program(pid);
}

void pause_ms(uint64_t ms) {
    sleep_on(nullptr, timer_now() + timer_ns_to_ticks(ms * 1'000'000));
}

uint64_t program_symbol(const char* path, const char* symbol) {
    const embedded_program* prog = find_program(path);
    return prog != nullptr ? elf_symbol(prog->begin, prog->size(), symbol) : 0;
}

bool program_read(const char* path, uint64_t addr, void* dst, size_t len) {
    const embedded_program* prog = find_program(path);
    return prog != nullptr && elf_read(prog->begin, prog->size(), addr, dst, len);
}

uint64_t text_checksum(int pid) {
    process* p = find_process(pid);
    if (p == nullptr || p->page_table == nullptr) {
        return 0;
    }
    uint64_t h = fnv_offset;
    uint8_t chunk[256];
    for (uint64_t va = p->text_begin; va < p->text_end;) {
        const uint64_t n = p->text_end - va < sizeof(chunk) ? p->text_end - va : sizeof(chunk);
        if (!peek_user(p->page_table, chunk, va, n)) {
            return 0;
        }
        h = fnv(h, chunk, n);
        va += n;
    }
    return h;
}

int add_trace_probe(const char* path, uint64_t addr, uint8_t kind, uprobes_handler_fn handler,
                    void* user, uint32_t pid) {
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = addr;
    spec.kind = kind;
    spec.mode = UPROBES_MODE_TRACE;
    spec.pid = pid;
    spec.handler = handler;
    spec.user = user;
    return uprobe_register_spec(&spec);
}

uint64_t file_text_checksum(const char* path) {
    const embedded_program* prog = find_program(path);
    uint64_t begin = 0;
    uint64_t end = 0;
    if (prog == nullptr || !elf_text_range(prog->begin, prog->size(), begin, end)) {
        return 0;
    }
    uint64_t h = fnv_offset;
    uint8_t chunk[256];
    for (uint64_t va = begin; va < end;) {
        const uint64_t n = end - va < sizeof(chunk) ? end - va : sizeof(chunk);
        if (!elf_read(prog->begin, prog->size(), va, chunk, n)) {
            return 0;
        }
        h = fnv(h, chunk, n);
        va += n;
    }
    return h;
}
