/*
 * The C ABI from C11: a minimal "kernel" that includes only ruprobes/ruprobes.h, defines the port
 * hooks over one fake process, and drives register -> exec -> trap -> return probe -> unregister.
 * Linked as C (no C++ runtime): exits 0 and prints "c_abi_test: ok" when everything held.
 */
#include "ruprobes/ruprobes.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#define TEXT_BASE 0x10000u
#define XOL_BASE 0x20000u
#define PID 7u

/* f: addi a0, a0, 1 ; c.addi a0, 1 ; ret */
static const unsigned char program[] = {
    0x13, 0x05, 0x15, 0x00, /* addi a0, a0, 1 */
    0x05, 0x05,             /* c.addi a0, 1 */
    0x67, 0x80, 0x00, 0x00, /* jalr x0, 0(ra) */
};
static unsigned char text[sizeof program];
static unsigned char xol[4096];
static int failures;
static int hits_seen;
static uint64_t last_retval;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "c_abi_test:%d: check failed: %s\n", __LINE__, #cond);                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static unsigned char* map(uint32_t pid, uint64_t addr, size_t len) {
    if (pid != PID)
        return NULL;
    if (addr >= TEXT_BASE && addr + len <= TEXT_BASE + sizeof text)
        return text + (addr - TEXT_BASE);
    if (addr >= XOL_BASE && addr + len <= XOL_BASE + sizeof xol)
        return xol + (addr - XOL_BASE);
    return NULL;
}

int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len) {
    unsigned char* p = map(pid, src, len);
    if (p == NULL)
        return -1;
    memcpy(dst, p, len);
    return 0;
}

int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len) {
    (void)pid;
    (void)dst;
    (void)src;
    (void)len;
    return -1; /* nothing user-writable in this process */
}

int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    unsigned char* p = map(pid, addr, len);
    if (p == NULL)
        return -1;
    memcpy(p, src, len);
    return 0;
}

void os_icache_flush(uint32_t pid, uint64_t addr, size_t len) {
    (void)pid;
    (void)addr;
    (void)len;
}

uint64_t os_xol_page(uint32_t pid) {
    return pid == PID ? XOL_BASE : 0;
}

uint32_t os_current_pid(void) {
    return PID;
}

uint32_t os_current_tid(void) {
    return PID;
}

uint64_t os_time_ns(void) {
    static uint64_t now;
    return ++now;
}

/* How often the engine took its lock: uprobes_trap_handler_locked must not. */
static int lock_calls;
void os_uprobes_lock(void) {
    lock_calls++;
}
void os_uprobes_unlock(void) {}

/* One program, known by two names: one key. */
int os_program_get(const char* path, struct uprobes_program_image* out) {
    if (strcmp(path, "/bin/c") != 0 && strcmp(path, "c") != 0)
        return -1;
    out->key = 1;
    out->text_begin = TEXT_BASE;
    out->text_end = TEXT_BASE + sizeof program;
    out->text = program;
    return 0;
}

void os_program_put(struct uprobes_program_image* image) {
    (void)image;
}

static void on_hit(const struct uprobes_hit* hit, void* user) {
    (void)user;
    hits_seen++;
    if (hit->flags & UPROBES_HIT_RETURN_VALUE)
        last_retval = hit->retval;
}

int main(void) {
    static alignas(16) unsigned char block[1 << 20];
    struct uprobes_limits limits = {0};
    limits.max_probes = 8;
    CHECK(uprobes_memory_required(&limits) <= sizeof block);
    CHECK(uprobes_engine_init(&limits, block, sizeof block) == 0);
    uprobes_set_hit_sink(on_hit, NULL);
    memcpy(text, program, sizeof program);

    CHECK(uprobes_on_exec(PID, "/bin/c", 0) == 0);
    int entry = uprobe_register("/bin/c", TEXT_BASE, NULL, NULL, UPROBES_KIND_ENTRY);
    int ret = uprobe_register("/bin/c", TEXT_BASE, NULL, NULL, UPROBES_KIND_RETURN);
    int mid = uprobe_register("/bin/c", TEXT_BASE + 4, NULL, NULL, UPROBES_KIND_INSN);
    CHECK(entry > 0 && ret > 0 && mid > 0);
    CHECK(uprobe_register("/bin/c", TEXT_BASE + 2, NULL, NULL, UPROBES_KIND_INSN) ==
          -UPROBES_E_ADDR_NOT_BOUNDARY);
    CHECK(text[0] == 0x73 && text[1] == 0x00 && text[2] == 0x10 && text[3] == 0x00);
    CHECK(text[4] == 0x02 && text[5] == 0x90);

    /* Call f(40) from 0x10100: entry hit, ra hijacked, addi simulated. */
    struct uprobes_trap_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.pc = TEXT_BASE;
    ctx.x[1] = 0x10100;
    ctx.x[2] = 0x7fff0000;
    ctx.x[10] = 40;
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 4 && ctx.x[10] == 41 && ctx.x[1] == XOL_BASE);
    /* The c.addi breakpoint. */
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 6 && ctx.x[10] == 42);
    /* ret -> the trampoline. */
    ctx.pc = ctx.x[1];
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == 0x10100);
    CHECK(hits_seen == 3 && last_retval == 42);

    /* The same call through uprobes_trap_handler_thread (the kernel names the thread). */
    struct uprobes_trap_info info;
    ctx.pc = TEXT_BASE;
    ctx.x[1] = 0x10100;
    ctx.x[10] = 40;
    CHECK(uprobes_trap_handler_thread(&ctx, PID, PID, &info) == UPROBES_TRAP_HANDLED);
    CHECK(info.action == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 4 && ctx.x[10] == 41 && ctx.x[1] == XOL_BASE);
    CHECK(uprobes_trap_handler_thread(&ctx, PID, PID, NULL) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 6 && ctx.x[10] == 42);
    ctx.pc = ctx.x[1];
    CHECK(uprobes_trap_handler_thread(&ctx, PID, PID, &info) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == 0x10100);
    CHECK(hits_seen == 6 && last_retval == 42);
    /* A process the engine does not know: not its breakpoint, nothing changed. */
    ctx.pc = TEXT_BASE;
    CHECK(uprobes_trap_handler_thread(&ctx, PID + 1, PID + 1, &info) == UPROBES_TRAP_NOT_OURS);
    CHECK(info.action == UPROBES_TRAP_NOT_OURS && ctx.pc == TEXT_BASE && ctx.x[10] == 42);

    /* The same through uprobes_trap_handler_locked (the kernel holds the engine's lock): the
     * same results, and the engine takes no lock of its own. */
    int locks_before = lock_calls;
    ctx.pc = TEXT_BASE;
    ctx.x[1] = 0x10100;
    ctx.x[10] = 40;
    CHECK(uprobes_trap_handler_locked(&ctx, PID, PID, &info) == UPROBES_TRAP_HANDLED);
    CHECK(info.action == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 4 && ctx.x[10] == 41 && ctx.x[1] == XOL_BASE);
    CHECK(uprobes_trap_handler_locked(&ctx, PID, PID, &info) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 6 && ctx.x[10] == 42);
    ctx.pc = ctx.x[1];
    CHECK(uprobes_trap_handler_locked(&ctx, PID, PID, &info) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == 0x10100);
    CHECK(hits_seen == 9 && last_retval == 42);
    ctx.pc = TEXT_BASE;
    CHECK(uprobes_trap_handler_locked(&ctx, PID + 1, PID + 1, &info) == UPROBES_TRAP_NOT_OURS);
    CHECK(info.action == UPROBES_TRAP_NOT_OURS && ctx.pc == TEXT_BASE && ctx.x[10] == 42);
    CHECK(lock_calls == locks_before);
    CHECK(uprobes_trap_handler_thread(&ctx, PID + 1, PID + 1, &info) == UPROBES_TRAP_NOT_OURS);
    CHECK(lock_calls == locks_before + 1);

    /* An ebreak the engine did not place. */
    ctx.pc = 0x10200;
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_NOT_OURS);

    /* The program exec'ed under its other name ("c": one key): its probes are armed and fire. */
    uprobes_on_exit(PID);
    memcpy(text, program, sizeof program);
    CHECK(uprobes_on_exec(PID, "c", 0) == 0);
    CHECK(text[0] == 0x73 && text[4] == 0x02 && text[5] == 0x90);
    ctx.pc = TEXT_BASE + 4;
    ctx.x[10] = 41;
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_HANDLED);
    CHECK(ctx.pc == TEXT_BASE + 6 && ctx.x[10] == 42 && hits_seen == 10);
    /* An unknown program: the pid's state is forgotten, the program not tracked. */
    CHECK(uprobes_on_exec(PID, "/bin/none", 0) == -UPROBES_E_NOT_FOUND);
    ctx.pc = TEXT_BASE + 4;
    CHECK(uprobes_trap_handler(&ctx) == UPROBES_TRAP_NOT_OURS);
    CHECK(uprobes_on_exec(PID, "/bin/c", 0) == 0);

    CHECK(uprobe_unregister(entry) == 0);
    CHECK(uprobe_unregister(ret) == 0);
    CHECK(uprobe_unregister(mid) == 0);
    CHECK(memcmp(text, program, sizeof program) == 0);
    uprobes_on_exit(PID);

    struct uprobes_stats stats;
    uprobes_get_stats(&stats);
    CHECK(stats.probes_used == 0 && stats.processes_used == 0 && stats.return_hits == 3);
    if (failures == 0)
        printf("c_abi_test: ok (engine %s)\n", ruprobes_version());
    return failures == 0 ? 0 : 1;
}
