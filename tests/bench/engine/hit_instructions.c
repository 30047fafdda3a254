/*
 * Driver for hit_instructions.sh: a riscv64 Linux program with a one-process port that runs N
 * simulated probe hits (an `addi` site with a trace probe, a handler and a hit sink), so that
 * qemu-riscv64 can count the instructions the engine executes per hit.
 *   hits N            N simulated hits
 *   hits N return     N entry+return pairs on the same `addi` (two traps each: the entry, then
 *                     the return through the trampoline in the xol page)
 *   hits N xol        N out-of-line hits on an `amoadd.w`, the xol page within a jal's reach of
 *                     the text: one trap each (the slot is the AMO, then a jal back; the driver
 *                     does not run the AMO itself, it moves the pc past it and takes the jal)
 *   hits N xolfar     the same with the xol page out of reach: two traps each (the probe, then
 *                     the ebreak after the AMO in the thread's xol slot)
 */
#include "ruprobes/ruprobes.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_BASE 0x10000u
#define XOL_NEAR 0x20000u
#define XOL_FAR 0x7fffe000u
#define PID 7u

/* addi a0,a0,1; amoadd.w a0,a1,(a2) */
static unsigned char text[8] = {0x13, 0x05, 0x15, 0x00, 0x2f, 0x25, 0xb6, 0x00};
static alignas(16) unsigned char xol[4096];
static const unsigned char image[8] = {0x13, 0x05, 0x15, 0x00, 0x2f, 0x25, 0xb6, 0x00};
static uint64_t xol_base = XOL_NEAR;

int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len) {
    if (pid == PID && src >= xol_base && src + len <= xol_base + sizeof xol) {
        memcpy(dst, xol + (src - xol_base), len);
        return 0;
    }
    if (pid != PID || src < TEXT_BASE || src + len > TEXT_BASE + sizeof text)
        return -1;
    memcpy(dst, text + (src - TEXT_BASE), len);
    return 0;
}
int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len) {
    (void)pid, (void)dst, (void)src, (void)len;
    return -1;
}
int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    if (pid == PID && addr >= xol_base && addr + len <= xol_base + sizeof xol) {
        memcpy(xol + (addr - xol_base), src, len);
        return 0;
    }
    if (pid != PID || addr < TEXT_BASE || addr + len > TEXT_BASE + sizeof text)
        return -1;
    memcpy(text + (addr - TEXT_BASE), src, len);
    return 0;
}
void os_icache_flush(uint32_t pid, uint64_t addr, size_t len) {
    (void)pid, (void)addr, (void)len;
}
uint64_t os_xol_page(uint32_t pid) {
    return pid == PID ? xol_base : 0;
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
void os_uprobes_lock(void) {}
void os_uprobes_unlock(void) {}
int os_program_get(const char* path, struct uprobes_program_image* out) {
    (void)path;
    out->key = 1;
    out->text_begin = TEXT_BASE;
    out->text_end = TEXT_BASE + sizeof image;
    out->text = image;
    return 0;
}
void os_program_put(struct uprobes_program_image* image_held) {
    (void)image_held;
}

static void handler(struct uprobes_trap_context* ctx, const struct uprobes_hit* hit, void* user) {
    (void)ctx, (void)hit, (void)user;
}
static void sink(const struct uprobes_hit* hit, void* user) {
    (void)hit, (void)user;
}

int main(int argc, char** argv) {
    static alignas(16) unsigned char block[1 << 20];
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int pairs = argc > 2 && strcmp(argv[2], "return") == 0;
    int out_of_line = argc > 2 && strcmp(argv[2], "xol") == 0;
    int far = argc > 2 && strcmp(argv[2], "xolfar") == 0;
    out_of_line = out_of_line || far;
    uint64_t site = out_of_line ? TEXT_BASE + 4 : TEXT_BASE;
    if (far)
        xol_base = XOL_FAR;
    struct uprobes_limits limits = {0};
    limits.max_probes = 8;
    limits.max_threads = 4;
    if (uprobes_engine_init(&limits, block, sizeof block) != 0 ||
        uprobes_on_exec(PID, "/bin/x", 0) != 0 ||
        uprobe_register("/bin/x", site, handler, NULL,
                        pairs ? UPROBES_KIND_ENTRY : UPROBES_KIND_INSN) <= 0 ||
        (pairs && uprobe_register("/bin/x", TEXT_BASE, handler, NULL, UPROBES_KIND_RETURN) <= 0))
        return 1;
    uprobes_set_hit_sink(sink, NULL);
    uint32_t jal_seen = 0; /* the slot's jal once checked (xol): not decoded again */
    struct uprobes_trap_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.x[2] = 0x7fff0000u; /* sp */
    for (long i = 0; i < n; i++) {
        ctx.pc = site;
        ctx.x[1] = TEXT_BASE + 4; /* ra: where the "function" returns */
        if (out_of_line) {
            if (uprobes_trap_handler(&ctx) != UPROBES_TRAP_HANDLED || ctx.pc < xol_base ||
                ctx.pc >= xol_base + sizeof xol)
                return 1;
            ctx.pc += 4;   /* past the AMO in the slot, onto the slot's jal or ebreak */
            uint32_t next; /* an aligned word: 4 bytes into a 16-byte slot */
            memcpy(&next, __builtin_assume_aligned(xol + (ctx.pc - xol_base), 4), 4);
            if (next == jal_seen) { /* the jal decoded at the first hit: take it */
                ctx.pc = site + 4;
                continue;
            }
            if ((next & 0xfff) == 0x06f) { /* jal x0 */
                uint32_t imm = (next >> 31) << 20 | ((next >> 21) & 0x3ff) << 1 |
                               ((next >> 20) & 1) << 11 | ((next >> 12) & 0xff) << 12;
                ctx.pc += (uint64_t)(int64_t)((int32_t)(imm << 11) >> 11);
                jal_seen = next;
            } else if (uprobes_trap_handler(&ctx) != UPROBES_TRAP_HANDLED) {
                return 1;
            }
            if (ctx.pc != site + 4 || (far && next != 0x00100073u) || (!far && next == 0x00100073u))
                return 1;
            continue;
        }
        if (uprobes_trap_handler(&ctx) != UPROBES_TRAP_HANDLED || ctx.pc != TEXT_BASE + 4)
            return 1;
        if (pairs) {
            if (ctx.x[1] != xol_base)
                return 1;
            ctx.pc = ctx.x[1]; /* ret: into the trampoline */
            if (uprobes_trap_handler(&ctx) != UPROBES_TRAP_HANDLED || ctx.pc != TEXT_BASE + 4)
                return 1;
        }
    }
    printf("%ld hits, a0 = %lu\n", n, (unsigned long)ctx.x[10]);
    return 0;
}
