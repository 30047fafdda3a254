// The C ABI of conditions (ruprobes.h): agent expressions over a trapped thread, its memory read
// through the port; and that read for a probe's handler (uprobes_read_user).
#include "ruprobes/agent_expr.hpp"
#include "ruprobes/ruprobes.h"

namespace {

int read_user(void* user, uint64_t addr, void* dst, size_t len) {
    uint32_t pid = *static_cast<const uint32_t*>(user);
    return os_copy_from_user(pid, dst, addr, len);
}

} // namespace

extern "C" int uprobes_condition_check(const uint8_t* list, size_t len) {
    if (list == nullptr)
        return -static_cast<int>(ruprobes::error::expr_invalid);
    auto r = ruprobes::agent_expr::validate_condition_list({list, len});
    return r.ok() ? 0 : -static_cast<int>(r.err());
}

extern "C" int uprobes_condition_holds(const struct uprobes_trap_context* ctx, uint32_t pid,
                                       uint32_t tid, const uint8_t* list, size_t len) {
    if (ctx == nullptr || list == nullptr)
        return 1;
    ruprobes::agent_expr::environment env;
    env.x = ctx->x;
    env.pc = ctx->pc;
    env.read_memory = read_user;
    env.user = &pid;
    env.pid = pid;
    env.tid = tid;
    env.has_thread_ids = true;
    return ruprobes::agent_expr::condition_list_holds({list, len}, env) ? 1 : 0;
}

extern "C" int uprobes_read_user(uint32_t pid, uint64_t addr, void* dst, size_t len) {
    if (dst == nullptr && len != 0)
        return -static_cast<int>(ruprobes::error::invalid_argument);
    return os_copy_from_user(pid, dst, addr, len) == 0
               ? 0
               : -static_cast<int>(ruprobes::error::fault_load);
}

extern "C" int uprobes_action_run(const struct uprobes_action_env* env, const uint8_t* code,
                                  size_t len) {
    if (env == nullptr || env->ctx == nullptr || code == nullptr)
        return -static_cast<int>(ruprobes::error::expr_invalid);
    uint32_t pid = env->pid;
    ruprobes::agent_expr::environment e;
    e.x = env->ctx->x;
    e.pc = env->ctx->pc;
    e.pid = env->pid;
    e.tid = env->tid;
    e.has_thread_ids = true;
    e.variables = env->variables;
    e.variable_count = env->variables != nullptr ? env->variable_count : 0;
    // The collectors get the caller's `user`; the reader gets the pid: one adapter for both.
    struct both {
        uint32_t pid;
        const struct uprobes_action_env* env;
    } b{pid, env};
    e.user = &b;
    e.read_memory = [](void* user, uint64_t addr, void* dst, size_t n) {
        return os_copy_from_user(static_cast<both*>(user)->pid, dst, addr, n);
    };
    if (env->collect_memory != nullptr)
        e.collect_memory = [](void* user, uint64_t addr, const uint8_t* bytes, size_t n) {
            const auto* x = static_cast<both*>(user)->env;
            return x->collect_memory(x->user, addr, bytes, n);
        };
    if (env->collect_variable != nullptr)
        e.collect_variable = [](void* user, uint32_t number, uint64_t value) {
            const auto* x = static_cast<both*>(user)->env;
            return x->collect_variable(x->user, number, value);
        };
    auto r = ruprobes::agent_expr::evaluate({code, len}, e);
    return r.ok() ? 0 : -static_cast<int>(r.err());
}
