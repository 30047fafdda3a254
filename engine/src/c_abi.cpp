// The C ABI (ruprobes.h) over one engine instance. Every entry point takes the port's lock; the
// ones that name a program by path resolve it first, with the lock not held (os_program_get may
// sleep), and release it after.
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "ruprobes/ruprobes.h"

// Constant-initialised: no constructor runs at boot.
constinit ruprobes::engine ruprobes::c_abi_engine;

namespace {

constexpr ruprobes::engine& the_engine = ruprobes::c_abi_engine;

int to_c(ruprobes::error e) {
    return -static_cast<int>(e);
}

template <typename T>
int to_c(const ruprobes::result<T>& r) {
    return r.ok() ? 0 : to_c(r.err());
}

// A path the engine accepts: not empty, at most max_path_length bytes (checked before the port
// sees it).
bool valid_path(const char* path) {
    if (path == nullptr)
        return false;
    size_t n = 0;
    while (n <= ruprobes::max_path_length && path[n] != '\0')
        n++;
    return n > 0 && n <= ruprobes::max_path_length;
}

// The image of program `path`, held from os_program_get to os_program_put (both called outside
// the engine lock: the caller takes it only while the image is held).
class held_image {
public:
    explicit held_image(const char* path) : ok_(os_program_get(path, &image_) == 0) {}
    ~held_image() {
        if (ok_)
            os_program_put(&image_);
    }
    held_image(const held_image&) = delete;
    held_image& operator=(const held_image&) = delete;

    bool ok() const { return ok_ && image_.key != 0; }
    const uprobes_program_image& image() const { return image_; }

private:
    uprobes_program_image image_ = {};
    bool ok_;
};

// The engine's lock, and a write bracket (engine::begin_write) for a call that may change what
// the lock-free hit path reads: hart sections end before the change and start again after it.
class write_guard {
public:
    write_guard() { the_engine.begin_write(); }
    ~write_guard() { the_engine.end_write(); }
    write_guard(const write_guard&) = delete;
    write_guard& operator=(const write_guard&) = delete;

private:
    ruprobes::port_lock_guard lock_; // taken first, released last
};

} // namespace

extern "C" {

const char* uprobes_error_name(int error) {
    return ruprobes::error_name(static_cast<ruprobes::error>(error < 0 ? -error : error));
}

size_t uprobes_memory_required(const struct uprobes_limits* limits) {
    ruprobes::result<uprobes_limits> l = ruprobes::engine::effective_limits(limits);
    return l.ok() ? ruprobes::engine::memory_required(*l) : 0;
}

int uprobes_engine_init(const struct uprobes_limits* limits, void* memory, size_t size) {
    write_guard guard;
    return to_c(the_engine.init(limits, memory, size));
}

void uprobes_set_hit_sink(uprobes_hit_sink_fn sink, void* user) {
    write_guard guard;
    the_engine.set_hit_sink(sink, user);
}

void uprobes_set_record_sink(uprobes_record_reserve_fn reserve, uprobes_record_commit_fn commit,
                             void* user) {
    write_guard guard;
    the_engine.set_record_sink(reserve, commit, user);
}

void uprobes_get_stats(struct uprobes_stats* out) {
    if (out == nullptr)
        return;
    ruprobes::port_lock_guard guard;
    the_engine.stats(out);
}

int uprobe_register(const char* path, uint64_t addr, uprobes_handler_fn handler,
                    uprobes_handler_fn post_handler, int type) {
    uprobes_probe_spec spec = {};
    spec.path = path;
    spec.addr = addr;
    if (type < 0 || type > UPROBES_KIND_RETURN)
        return to_c(ruprobes::error::invalid_argument);
    spec.kind = static_cast<uint8_t>(type);
    spec.mode = UPROBES_MODE_TRACE;
    spec.handler = handler;
    spec.post_handler = post_handler;
    return uprobe_register_spec(&spec);
}

int uprobe_register_spec(const struct uprobes_probe_spec* spec) {
    if (spec == nullptr || !valid_path(spec->path))
        return to_c(ruprobes::error::invalid_argument);
    held_image held(spec->path); // before the lock: the port may sleep
    if (!held.ok())
        return to_c(ruprobes::error::not_found);
    return uprobe_register_image(spec, &held.image());
}

int uprobe_register_image(const struct uprobes_probe_spec* spec,
                          const struct uprobes_program_image* image) {
    if (spec == nullptr || image == nullptr || image->key == 0 ||
        (spec->path != nullptr && spec->path[0] != '\0' && !valid_path(spec->path)))
        return to_c(ruprobes::error::invalid_argument);
    write_guard guard;
    ruprobes::result<int32_t> id = the_engine.register_probe(*spec, *image);
    return id.ok() ? *id : to_c(id.err());
}

int uprobe_unregister(int id) {
    write_guard guard;
    return to_c(the_engine.unregister_probe(id));
}

int64_t uprobe_hit_count(int id) {
    ruprobes::port_lock_guard guard;
    ruprobes::result<uint64_t> n = the_engine.hit_count(id);
    return n.ok() ? static_cast<int64_t>(*n) : to_c(n.err());
}

int uprobe_iterate(uint32_t* cursor, struct uprobes_probe_info* out) {
    if (cursor == nullptr || out == nullptr)
        return 0;
    ruprobes::port_lock_guard guard;
    return the_engine.iterate(cursor, out) ? 1 : 0;
}

int uprobes_on_exec(uint32_t pid, const char* path, uint64_t load_bias) {
    if (!valid_path(path)) {
        uprobes_on_exit(pid);
        return to_c(ruprobes::error::invalid_argument);
    }
    held_image held(path); // before the lock: the port may sleep
    if (!held.ok()) {
        uprobes_on_exit(pid); // whatever the pid ran before is gone
        return to_c(ruprobes::error::not_found);
    }
    return uprobes_on_exec_image(pid, &held.image(), path, load_bias);
}

int uprobes_on_exec_image(uint32_t pid, const struct uprobes_program_image* image, const char* path,
                          uint64_t load_bias) {
    if (image == nullptr || image->key == 0 ||
        (path != nullptr && path[0] != '\0' && !valid_path(path))) {
        uprobes_on_exit(pid);
        return to_c(ruprobes::error::invalid_argument);
    }
    write_guard guard;
    return to_c(the_engine.on_exec(pid, *image, path, load_bias));
}

int uprobes_on_fork(uint32_t parent_pid, uint32_t parent_tid, uint32_t child_pid,
                    uint32_t child_tid) {
    write_guard guard;
    return to_c(the_engine.on_fork(parent_pid, parent_tid, child_pid, child_tid));
}

void uprobes_on_thread_exit(uint32_t pid, uint32_t tid) {
    write_guard guard;
    the_engine.on_thread_exit(pid, tid);
}

void uprobes_on_exit(uint32_t pid) {
    write_guard guard;
    the_engine.on_exit(pid);
}

int uprobes_trap_handler(struct uprobes_trap_context* ctx) {
    return uprobes_trap_handler_ex(ctx, nullptr);
}

int uprobes_trap_handler_ex(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info) {
    if (ctx == nullptr)
        return UPROBES_TRAP_NOT_OURS;
    ruprobes::port_lock_guard guard;
    return the_engine.trap(ctx, info);
}

int uprobes_trap_handler_thread(struct uprobes_trap_context* ctx, uint32_t pid, uint32_t tid,
                                struct uprobes_trap_info* info) {
    if (ctx == nullptr)
        return UPROBES_TRAP_NOT_OURS;
    return the_engine.trap_thread(pid, tid, ctx, info); // takes the port lock itself
}

int uprobes_resume(struct uprobes_trap_context* ctx) {
    return uprobes_resume_ex(ctx, nullptr);
}

int uprobes_resume_ex(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info) {
    if (ctx == nullptr)
        return UPROBES_TRAP_HANDLED;
    ruprobes::port_lock_guard guard;
    return the_engine.resume(ctx, info);
}

int uprobes_single_step(struct uprobes_trap_context* ctx, struct uprobes_trap_info* info) {
    if (ctx == nullptr)
        return to_c(ruprobes::error::invalid_argument);
    ruprobes::port_lock_guard guard;
    return the_engine.single_step(ctx, info);
}

int uprobes_fixup_fault(struct uprobes_trap_context* ctx) {
    if (ctx == nullptr)
        return 0;
    ruprobes::port_lock_guard guard;
    return the_engine.fixup_fault(ctx) ? 1 : 0;
}

uint64_t uprobes_program_pc(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx) {
    if (ctx == nullptr)
        return 0;
    ruprobes::port_lock_guard guard;
    return the_engine.program_pc(pid, tid, ctx);
}

uint64_t uprobes_program_ra(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx) {
    if (ctx == nullptr)
        return 0;
    ruprobes::port_lock_guard guard;
    return the_engine.program_ra(pid, tid, ctx);
}

int uprobes_set_program_ra(uint32_t pid, uint32_t tid, const struct uprobes_trap_context* ctx,
                           uint64_t ra) {
    if (ctx == nullptr)
        return 0;
    ruprobes::port_lock_guard guard;
    return the_engine.set_program_ra(pid, tid, ctx, ra) ? 1 : 0;
}

int uprobes_read_memory(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    if (dst == nullptr && len != 0)
        return to_c(ruprobes::error::invalid_argument);
    ruprobes::port_lock_guard guard;
    return to_c(the_engine.read_memory(pid, addr, static_cast<uint8_t*>(dst), len));
}

int uprobes_write_memory(uint32_t pid, uint64_t addr, const void* src, size_t len) {
    if (src == nullptr && len != 0)
        return to_c(ruprobes::error::invalid_argument);
    write_guard guard;
    return to_c(the_engine.write_memory(pid, addr, static_cast<const uint8_t*>(src), len));
}

} // extern "C"
