#include "host_machine.hpp"

#include "ruprobes/insn.hpp"
#include "ruprobes/simulate.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace ruprobes::test {

namespace {

host_machine* installed = nullptr;
// The engine's lock: a real mutex, so that tests may call the engine from several threads (the
// lock-free hit path's tests). held_here: this thread holds it (the program hooks' check).
std::mutex engine_lock;
thread_local bool held_here = false;

} // namespace

host_machine::host_machine() {
    if (installed != nullptr) {
        std::fprintf(stderr, "host_machine: only one at a time\n");
        std::abort();
    }
    installed = this;
}

host_machine::~host_machine() {
    installed = nullptr;
}

host_machine* host_machine::installed_or_null() {
    return installed;
}

host_machine& host_machine::current() {
    if (installed == nullptr) {
        std::fprintf(stderr, "host_machine: engine hook called without a machine\n");
        std::abort();
    }
    return *installed;
}

void host_machine::add_program(const std::string& path, std::vector<uint8_t> text, uint64_t begin) {
    programs[path] = host_program{begin, std::move(text)};
}

std::vector<uint8_t> host_machine::code(std::initializer_list<uint32_t> words) {
    std::vector<uint8_t> out;
    for (uint32_t w : words) {
        unsigned n = (w & 3) == 3 ? 4 : 2;
        for (unsigned i = 0; i < n; i++)
            out.push_back(static_cast<uint8_t>(w >> (8 * i)));
    }
    return out;
}

host_program* host_machine::program_named(const std::string& path) {
    auto alias = aliases.find(path);
    auto it = programs.find(alias != aliases.end() ? alias->second : path);
    return it != programs.end() ? &it->second : nullptr;
}

int host_machine::exec(uint32_t pid, const std::string& path, bool with_xol) {
    const host_program& prog = *program_named(path);
    host_process p;
    p.pid = pid;
    p.path = path;
    p.regions.push_back({prog.text_begin, prog.text, perm_r | perm_x});
    p.regions.push_back({data_base, std::vector<uint8_t>(data_size), perm_r | perm_w});
    p.regions.push_back(
        {stack_top - stack_size, std::vector<uint8_t>(stack_size), perm_r | perm_w});
    if (with_xol) {
        p.regions.push_back({xol_page_at, std::vector<uint8_t>(4096), perm_r | perm_x});
        p.xol = xol_page_at;
    }
    processes[pid] = std::move(p);
    return uprobes_on_exec(pid, path.c_str(), 0);
}

int host_machine::fork(uint32_t parent, uint32_t parent_tid, uint32_t child, uint32_t child_tid) {
    host_process copy = processes.at(parent);
    copy.pid = child;
    processes[child] = std::move(copy);
    return uprobes_on_fork(parent, parent_tid, child, child_tid);
}

void host_machine::exit(uint32_t pid) {
    uprobes_on_exit(pid);
    processes.erase(pid);
}

host_process* host_machine::process(uint32_t pid) {
    auto it = processes.find(pid);
    return it == processes.end() ? nullptr : &it->second;
}

bool host_machine::read(uint32_t pid, uint64_t addr, void* dst, size_t len, uint8_t need) const {
    auto it = processes.find(pid);
    if (it == processes.end())
        return false;
    for (const region& r : it->second.regions) {
        if (r.contains(addr, len) && (r.perms & need) == need) {
            std::memcpy(dst, r.bytes.data() + (addr - r.base), len);
            return true;
        }
    }
    return false;
}

bool host_machine::write(uint32_t pid, uint64_t addr, const void* src, size_t len, uint8_t need) {
    auto it = processes.find(pid);
    if (it == processes.end())
        return false;
    for (region& r : it->second.regions) {
        if (r.contains(addr, len) && (r.perms & need) == need) {
            std::memcpy(r.bytes.data() + (addr - r.base), src, len);
            return true;
        }
    }
    return false;
}

uint32_t host_machine::read16(uint32_t pid, uint64_t addr) const {
    uint16_t v = 0;
    read(pid, addr, &v, 2, 0);
    return v;
}

uint32_t host_machine::read32(uint32_t pid, uint64_t addr) const {
    uint32_t v = 0;
    read(pid, addr, &v, 4, 0);
    return v;
}

engine_memory::engine_memory(const uprobes_limits* limits) {
    size_t size = uprobes_memory_required(limits);
    block_ = std::aligned_alloc(16, (size + 15) / 16 * 16);
    std::memset(block_, 0xa5, size); // the engine must not rely on zeroed memory
    init_result = uprobes_engine_init(limits, block_, size);
}

engine_memory::~engine_memory() {
    // Leave the engine unusable rather than pointing at freed memory.
    uprobes_limits tiny = {};
    tiny.max_probes = 1;
    tiny.max_programs = 1;
    tiny.max_processes = 1;
    tiny.max_threads = 1;
    alignas(16) static uint8_t scratch[1 << 16];
    if (uprobes_memory_required(&tiny) > sizeof(scratch) ||
        uprobes_engine_init(&tiny, scratch, sizeof(scratch)) != 0)
        std::abort();
    std::free(block_);
}

namespace {

// The simulator's view of the current process for the test CPU (user permissions enforced).
class cpu_memory final : public memory_port {
public:
    explicit cpu_memory(uint32_t pid) : pid_(pid) {}
    bool load(uint64_t addr, unsigned size, uint64_t& out) override {
        out = 0;
        return host_machine::current().read(pid_, addr, &out, size, perm_r);
    }
    bool store(uint64_t addr, unsigned size, uint64_t value) override {
        return host_machine::current().write(pid_, addr, &value, size, perm_w);
    }

private:
    uint32_t pid_;
};

} // namespace

cpu::outcome cpu::run(uint64_t until, uint64_t max_steps) {
    host_machine& m = host_machine::current();
    for (uint64_t step = 0; step < max_steps; step++) {
        if (ctx.pc == until)
            return outcome::reached;
        uint32_t bits = 0;
        if (!m.read(m.current_pid, ctx.pc, &bits, 2, perm_x))
            return outcome::fault;
        if ((bits & 3) == 3 && !m.read(m.current_pid, ctx.pc, &bits, 4, perm_x))
            return outcome::fault;
        decoded_insn d = decode_bits(bits);
        if (d.op == opcode::ebreak) {
            traps++;
            int action = uprobes_trap_handler_ex(&ctx, &last_info);
            if (action == UPROBES_TRAP_HANDLED)
                continue;
            if (action == UPROBES_TRAP_STOP)
                return outcome::stopped;
            if (action == UPROBES_TRAP_NOT_OURS)
                return outcome::not_ours;
            return outcome::fault;
        }
        if (d.op == opcode::amoadd_w || d.op == opcode::amoswap_w) {
            uint64_t addr = ctx.x[d.rs1];
            int32_t old = 0;
            if (!m.read(m.current_pid, addr, &old, 4, perm_r | perm_w))
                return outcome::fault;
            int32_t src = static_cast<int32_t>(ctx.x[d.rs2]);
            int32_t val =
                d.op == opcode::amoadd_w
                    ? static_cast<int32_t>(static_cast<uint32_t>(old) + static_cast<uint32_t>(src))
                    : src;
            m.write(m.current_pid, addr, &val, 4, perm_w);
            if (d.rd != 0)
                ctx.x[d.rd] = static_cast<uint64_t>(static_cast<int64_t>(old));
            ctx.pc += d.length;
            continue;
        }
        if (d.cls != insn_class::simulate)
            return outcome::illegal;
        register_file regs;
        for (int i = 1; i < 32; i++)
            regs.x[i] = ctx.x[i];
        cpu_memory mem(m.current_pid);
        result<uint64_t> next = simulate(d, ctx.pc, regs, mem);
        if (!next.ok())
            return outcome::fault;
        for (int i = 1; i < 32; i++)
            ctx.x[i] = regs.x[i];
        ctx.pc = *next;
    }
    return outcome::step_limit;
}

} // namespace ruprobes::test

// ---- the port hooks -------------------------------------------------------------------------

using ruprobes::test::host_machine;

extern "C" {

int os_copy_from_user(uint32_t pid, void* dst, uint64_t src, size_t len) {
    return host_machine::current().read(pid, src, dst, len, ruprobes::test::perm_r) ? 0 : -1;
}

int os_copy_to_user(uint32_t pid, uint64_t dst, const void* src, size_t len) {
    return host_machine::current().write(pid, dst, src, len, ruprobes::test::perm_w) ? 0 : -1;
}

int os_text_poke(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    host_machine& m = host_machine::current();
    if (m.fail_pokes || len > 16)
        return -1;
    m.pokes++;
    return m.write(pid, addr, src, len, ruprobes::test::perm_x) ? 0 : -1;
}

void os_icache_flush(uint32_t, uint64_t, size_t) {
    host_machine::current().flushes++;
}

uint64_t os_xol_page(uint32_t pid) {
    ruprobes::test::host_process* p = host_machine::current().process(pid);
    return p != nullptr ? p->xol : 0;
}

uint32_t os_current_pid(void) {
    return host_machine::current().current_pid;
}

uint32_t os_current_tid(void) {
    return host_machine::current().current_tid;
}

// Atomic: the lock-free hit path reads the clock on several harts at once.
uint64_t os_time_ns(void) {
    return __atomic_fetch_add(&host_machine::current().clock_ns, 1, __ATOMIC_RELAXED);
}

// A nested lock would deadlock here: the depth counts it first, for the fixture's check.
void os_uprobes_lock(void) {
    host_machine* m = host_machine::installed_or_null();
    if (m == nullptr)
        return;
    if (ruprobes::test::held_here) {
        m->lock_depth++;
        m->max_lock_depth = m->lock_depth > m->max_lock_depth ? m->lock_depth : m->max_lock_depth;
        return;
    }
    ruprobes::test::engine_lock.lock();
    ruprobes::test::held_here = true;
    m->lock_depth++;
    if (m->lock_depth > m->max_lock_depth)
        m->max_lock_depth = m->lock_depth;
}

void os_uprobes_unlock(void) {
    host_machine* m = host_machine::installed_or_null();
    if (m == nullptr)
        return;
    if (--m->lock_depth != 0)
        return;
    ruprobes::test::held_here = false;
    ruprobes::test::engine_lock.unlock();
}

// The key is the program record's address: every name of one program gives the same key.
int os_program_get(const char* path, uprobes_program_image* out) {
    host_machine& m = host_machine::current();
    m.program_gets++;
    if (ruprobes::test::held_here)
        m.program_hooks_under_lock++;
    ruprobes::test::host_program* p = m.program_named(path);
    if (p == nullptr)
        return -1;
    out->key = reinterpret_cast<uint64_t>(p);
    out->text_begin = p->text_begin;
    out->text_end = p->text_begin + p->text.size();
    out->text = p->text.data();
    m.images_held++;
    return 0;
}

void os_program_put(uprobes_program_image* image) {
    host_machine& m = host_machine::current();
    if (ruprobes::test::held_here)
        m.program_hooks_under_lock++;
    if (image != nullptr && image->key != 0)
        m.images_held--;
}

const char* os_current_exec_path(void) {
    host_machine& m = host_machine::current();
    ruprobes::test::host_process* p = m.process(m.current_pid);
    return p != nullptr ? p->path.c_str() : "";
}

} // extern "C"
