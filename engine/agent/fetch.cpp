#include "agent/fetch.hpp"

#include "agent/request_util.hpp"

#include "ruprobes/ruprobes.h"
#include "ruprobes/wire/fetch.hpp"

namespace agent {
namespace {

constexpr uint32_t max_fetch_probes = 64;
constexpr uint64_t page_size = 4096;

struct fetch_probe {
    bool used = false;
    uint32_t probe_id = 0;
    uint32_t count = 0;
    wire::fetch_entry entries[wire::max_fetch_entries] = {};
};

constinit fetch_probe fetch_probes[max_fetch_probes];

// What the handler hands to the fill function.
struct hit_scope {
    const fetch_probe* probe;
    const uprobes_trap_context* ctx;
    const uprobes_hit* hit;
};

uint64_t register_value(const hit_scope& s, uint8_t reg) {
    if (reg == 0)
        return 0;
    if (reg < 32)
        return s.ctx->x[reg];
    if (reg == wire::fetch_reg_pc)
        return s.ctx->pc;
    return s.hit->retval; // fetch_reg_ret
}

void put_le(uint8_t* at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        at[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The item header and the 8-byte value or address at `out`.
void put_item(uint8_t* out, wire::fetch_op op, wire::fetch_status status, size_t len,
              uint64_t value) {
    out[0] = static_cast<uint8_t>(op);
    out[1] = static_cast<uint8_t>(status);
    put_le(out + 2, len, 2);
    put_le(out + 4, value, 8);
}

// Reads the NUL-terminated string at `addr` of `pid` into `out`, at most `max` bytes before the
// NUL, page by page so that a string ending before an unmapped page is read whole. Its length
// (without the NUL); `status` says whether it was cut at `max` or could not be read.
size_t read_string(uint32_t pid, uint64_t addr, uint8_t* out, size_t max,
                   wire::fetch_status& status) {
    size_t got = 0;
    while (got < max) {
        const uint64_t at = addr + got;
        size_t chunk = max - got;
        if (chunk > page_size - (at & (page_size - 1)))
            chunk = page_size - (at & (page_size - 1));
        if (uprobes_read_user(pid, at, out + got, chunk) != 0) {
            status = wire::fetch_status::unreadable;
            return 0;
        }
        for (size_t i = 0; i < chunk; i++) {
            if (out[got + i] == 0) {
                status = wire::fetch_status::ok;
                return got + i;
            }
        }
        got += chunk;
    }
    status = wire::fetch_status::truncated;
    return got;
}

// Writes the items of the probe's list for this hit at `out` (the list was checked to fit
// wire::max_fetch_data); returns the bytes written. Runs in the trap, under the agent's lock.
uint32_t fill_items(uint8_t* out, void* user) {
    const hit_scope& s = *static_cast<const hit_scope*>(user);
    size_t used = 0;
    for (uint32_t i = 0; i < s.probe->count; i++) {
        const wire::fetch_entry& e = s.probe->entries[i];
        uint8_t* item = out + used;
        const uint64_t value = register_value(s, e.reg);
        if (e.op == wire::fetch_op::reg) {
            put_item(item, e.op, wire::fetch_status::ok, 8, value);
            used += wire::fetch_item_header + 8;
            continue;
        }
        const uint64_t addr = value + static_cast<uint64_t>(int64_t{e.offset});
        uint8_t* data = item + wire::fetch_item_header + 8;
        wire::fetch_status status = wire::fetch_status::ok;
        size_t len = e.len;
        if (e.op == wire::fetch_op::mem) {
            if (uprobes_read_user(s.hit->pid, addr, data, len) != 0) {
                status = wire::fetch_status::unreadable;
                len = 0;
            }
        } else {
            len = read_string(s.hit->pid, addr, data, len, status);
        }
        put_item(item, e.op, status, 8 + len, addr);
        used += wire::fetch_item_header + 8 + len;
    }
    return static_cast<uint32_t>(used);
}

// The handler of every fetching probe (in the trap, under the engine lock; after the probe's
// condition held).
void collect(uprobes_trap_context* ctx, const uprobes_hit* hit, void* user) {
    hit_scope scope{static_cast<const fetch_probe*>(user), ctx, hit};
    store_hit_with_data(*hit, fill_items, &scope);
}

} // namespace

void fetch_probe_add(const wire::frame& f, const wire::probe_add_request& req) {
    if (int32_t st = wire::check_fetch_list(req.fetch); st != 0) {
        reply_status(f, st);
        return;
    }
    fetch_probe* slot = first_unused(fetch_probes);
    if (slot == nullptr) {
        reply_status(f, wire::status_of(ruprobes::error::no_space));
        return;
    }
    // Requests are served by the agent thread alone, and the handler reads a slot only once its
    // probe is armed: the slot needs no lock.
    slot->count = static_cast<uint32_t>(req.fetch.size() / wire::fetch_entry_size);
    for (uint32_t i = 0; i < slot->count; i++)
        slot->entries[i] = wire::read_fetch_entry(req.fetch.data() + i * wire::fetch_entry_size);
    slot->used = true;
    uint32_t id = add_probe(f, probe_params{.pid = req.pid,
                                            .kind = req.kind,
                                            .mode = req.mode,
                                            .address = req.address,
                                            .path = req.path,
                                            .condition = req.condition,
                                            .cookie = fetch_cookie,
                                            .handler = collect,
                                            .handler_user = slot});
    if (id == 0) {
        slot->used = false; // add_probe replied with the refusal
        return;
    }
    slot->probe_id = id;
    reply(f, wire::probe_add_response{.status = 0, .probe_id = id});
}

void fetch_release(uint32_t probe_id) {
    for (fetch_probe& p : fetch_probes) {
        if (p.used && p.probe_id == probe_id) {
            p.used = false;
            p.probe_id = 0;
        }
    }
}

} // namespace agent
