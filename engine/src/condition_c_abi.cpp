// The C ABI of conditions (ruprobes.h): agent expressions over a trapped thread, its memory read
// through the port.
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
