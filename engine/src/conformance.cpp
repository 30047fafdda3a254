// The conformance self-test a port runs at boot (uprobes_conformance_run in ruprobes.h): exact
// counts, arming at exec and in a live process, text restored, a stop and a resume. It uses the
// C ABI and the port's hooks only, as a kernel would.
#include "ruprobes/ruprobes.h"

namespace {

struct counts {
    uint64_t entries = 0, returns = 0;
};

void count_entry(uprobes_trap_context*, const uprobes_hit*, void* user) {
    static_cast<counts*>(user)->entries++;
}

void count_return(uprobes_trap_context*, const uprobes_hit*, void* user) {
    static_cast<counts*>(user)->returns++;
}

// The original instruction of `path` at `addr` (2 or 4 bytes, by its low bits) into `out`.
bool original_at(const char* path, uint64_t addr, uint8_t out[4], size_t* length) {
    uprobes_program_image image = {};
    if (os_program_get(path, &image) != 0)
        return false;
    bool ok = image.text != nullptr && addr >= image.text_begin && addr + 2 <= image.text_end;
    if (ok) {
        const auto* p = static_cast<const uint8_t*>(image.text) + (addr - image.text_begin);
        *length = (p[0] & 3) == 3 ? 4 : 2;
        ok = addr + *length <= image.text_end;
        for (size_t i = 0; ok && i < *length; i++)
            out[i] = p[i];
    }
    os_program_put(&image);
    return ok;
}

// Whether process `pid` holds `expected` (`length` bytes) at `addr`.
bool text_is(uint32_t pid, uint64_t addr, const uint8_t* expected, size_t length) {
    uint8_t now[4] = {};
    if (os_copy_from_user(pid, now, addr, length) != 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (now[i] != expected[i])
            return false;
    }
    return true;
}

uprobes_probe_spec probe_on(const uprobes_conformance_port& port, uint8_t kind, uint8_t mode) {
    uprobes_probe_spec spec = {};
    spec.path = port.path;
    spec.addr = port.function;
    spec.kind = kind;
    spec.mode = mode;
    return spec;
}

} // namespace

extern "C" int uprobes_conformance_run(const struct uprobes_conformance_port* port,
                                       struct uprobes_conformance_report* out) {
    uprobes_conformance_report local = {};
    uprobes_conformance_report& r = out != nullptr ? *out : local;
    r = {};
    if (port == nullptr || port->path == nullptr || port->command == nullptr ||
        port->start == nullptr || port->run == nullptr)
        return -UPROBES_E_INVALID_ARGUMENT;
    const uprobes_conformance_port& p = *port;
    int check = 0;
    auto failed = [&r](int number) {
        r.failed_check = number;
        return number;
    };

    // 1-4: exact counts over one run, the probes armed at exec.
    counts c;
    uprobes_probe_spec entry = probe_on(p, UPROBES_KIND_ENTRY, UPROBES_MODE_TRACE);
    entry.handler = count_entry;
    entry.user = &c;
    uprobes_probe_spec ret = probe_on(p, UPROBES_KIND_RETURN, UPROBES_MODE_TRACE);
    ret.handler = count_return;
    ret.user = &c;
    const int entry_id = uprobe_register_spec(&entry);
    const int return_id = uprobe_register_spec(&ret);
    int status = -1;
    int64_t pid = 0;
    if (entry_id <= 0 || return_id <= 0) {
        check = 1;
    } else {
        pid = p.start(p.user, p.command);
        int ran = pid > 0 ? p.run(p.user, pid, &status) : -1;
        if (ran != 0 || status != 0)
            check = 2;
        while (ran == 1) // a stop nobody asked for: let it end
            ran = p.run(p.user, pid, &status);
    }
    r.entry_hits = c.entries;
    r.return_hits = c.returns;
    if (check == 0 && (c.entries != p.calls || c.returns != p.calls ||
                       uprobe_hit_count(entry_id) != static_cast<int64_t>(p.calls)))
        check = 3;
    const int unregistered_entry = entry_id > 0 ? uprobe_unregister(entry_id) : 0;
    const int unregistered_return = return_id > 0 ? uprobe_unregister(return_id) : 0;
    if (check != 0)
        return failed(check);
    if (unregistered_entry != 0 || unregistered_return != 0)
        return failed(4);

    // 5-9: a stop in a live process, the text restored while it is stopped, the resume.
    uint8_t original[4] = {};
    size_t length = 0;
    if (!original_at(p.path, p.function, original, &length))
        return failed(5);
    pid = p.start(p.user, p.command);
    uprobes_probe_spec stop = probe_on(p, UPROBES_KIND_ENTRY, UPROBES_MODE_STOP);
    const int stop_id = pid > 0 ? uprobe_register_spec(&stop) : -UPROBES_E_INVALID_ARGUMENT;
    if (stop_id <= 0) {
        if (pid > 0)
            (void)p.run(p.user, pid, &status); // unprobed: let it finish
        return failed(5);
    }
    const int first = p.run(p.user, pid, &status);
    r.stops = first == 1 ? 1 : 0;
    const uint8_t ebreak[4] = {0x73, 0x00, 0x10, 0x00};
    const uint8_t c_ebreak[2] = {0x02, 0x90};
    if (first != 1) {
        (void)uprobe_unregister(stop_id);
        return failed(6);
    }
    const auto u32pid = static_cast<uint32_t>(pid);
    if (!text_is(u32pid, p.function, length == 4 ? ebreak : c_ebreak, length))
        check = 7;
    const int unregistered = uprobe_unregister(stop_id);
    if (check == 0 && (unregistered != 0 || !text_is(u32pid, p.function, original, length)))
        check = 8;
    status = -1;
    const int second = p.run(p.user, pid, &status);
    if (second == 1) {
        r.stops++;
        while (p.run(p.user, pid, &status) == 1) // not the engine's any more: let it end
            r.stops++;
    }
    if (check == 0 && (second != 0 || status != 0 || r.stops != 1))
        check = 9;
    return check != 0 ? failed(check) : 0;
}
