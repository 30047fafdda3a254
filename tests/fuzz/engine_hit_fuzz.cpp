// Engine registry + hit path under arbitrary operation sequences: register/unregister probes at
// any address of an arbitrary program text, exec/fork/exit, traps with arbitrary registers and
// pcs (followed by a few instructions of the host port's CPU), single steps, resumes and memory
// views. Built with ASan/UBSan; the engine must never crash, never nest its lock, and must end
// with empty pools once every probe and process is gone.
#include "../unit/engine/host_port/host_machine.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace ruprobes::test;

namespace {

class input {
public:
    input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return at_ >= size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    uint64_t u64() {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= uint64_t{byte()} << (8 * i);
        return v;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

// The program: a fixed prologue of valid code, then up to 64 bytes from the input.
std::vector<uint8_t> program_text(input& in) {
    std::vector<uint8_t> text = host_machine::code({
        0x00150513, // addi a0, a0, 1
        0x0505,     // c.addi a0, 1
        0x00c5a52f, // amoadd.w a0, a2, (a1)
        0x0005b503, // ld a0, 0(a1)
        0x00001517, // auipc a0, 1
        0x00008067, // ret
    });
    size_t extra = in.byte() % 65;
    for (size_t i = 0; i < extra; i++)
        text.push_back(in.byte());
    return text;
}

uint64_t pick_addr(input& in, size_t text_size) {
    switch (in.byte() % 4) {
    case 0:
        return text_base + (in.byte() % (text_size + 4));
    case 1:
        return xol_base + (in.byte() % 64);
    case 2:
        return data_base + in.byte();
    default:
        return in.u64();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    input in(data, size);
    host_machine machine;
    uprobes_limits limits = {};
    limits.max_probes = 8;
    limits.max_processes = 4;
    limits.max_threads = 4;
    engine_memory memory(&limits);
    check(memory.init_result == 0);
    std::vector<uint8_t> text = program_text(in);
    machine.add_program("/bin/p", text);
    std::vector<int> ids;
    std::vector<uint32_t> pids;

    for (int ops = 0; ops < 64 && !in.empty(); ops++) {
        uint32_t pid = 1 + in.byte() % 3;
        uint32_t tid = pid + 10 * (in.byte() % 2);
        switch (in.byte() % 10) {
        case 0: {
            uprobes_probe_spec spec = {};
            spec.path = "/bin/p";
            spec.addr = text_base + (in.byte() % (text.size() + 4));
            spec.kind = in.byte() % 4;
            spec.mode = in.byte() % 2;
            spec.pid = in.byte() % 4;
            int id = uprobe_register_spec(&spec);
            if (id > 0)
                ids.push_back(id);
            break;
        }
        case 1:
            if (!ids.empty()) {
                size_t i = in.byte() % ids.size();
                (void)uprobe_unregister(ids[i]);
                ids.erase(ids.begin() + static_cast<ptrdiff_t>(i));
            }
            break;
        case 2:
            (void)machine.exec(pid, "/bin/p", in.byte() % 4 != 0);
            break;
        case 3:
            if (machine.process(pid) != nullptr) {
                uint32_t child = 1 + in.byte() % 3;
                if (child != pid)
                    (void)machine.fork(pid, tid, child, child);
            }
            break;
        case 4:
            if (machine.process(pid) != nullptr)
                machine.exit(pid);
            break;
        case 5:
        case 6: {
            if (machine.process(pid) == nullptr)
                break;
            machine.set_current(pid, tid);
            cpu c;
            for (int r = 1; r < 32; r++)
                c.ctx.x[r] = in.byte() % 2 ? in.u64() : data_base + in.byte();
            c.ctx.x[2] = stack_top - 8 * in.byte();
            c.ctx.pc = pick_addr(in, text.size());
            (void)uprobes_trap_handler_ex(&c.ctx, &c.last_info);
            (void)c.run(~uint64_t{0}, in.byte() % 32);
            break;
        }
        case 7: {
            if (machine.process(pid) == nullptr)
                break;
            machine.set_current(pid, tid);
            uprobes_trap_context ctx = {};
            ctx.pc = pick_addr(in, text.size());
            ctx.x[11] = data_base;
            uprobes_trap_info info = {};
            switch (in.byte() % 3) {
            case 0:
                (void)uprobes_single_step(&ctx, &info);
                break;
            case 1:
                (void)uprobes_resume_ex(&ctx, &info);
                break;
            default:
                (void)uprobes_fixup_fault(&ctx);
            }
            break;
        }
        case 8: {
            uint8_t buf[64];
            uint64_t addr = pick_addr(in, text.size());
            size_t len = in.byte() % sizeof(buf);
            for (size_t i = 0; i < len; i++)
                buf[i] = in.byte();
            if (in.byte() % 2)
                (void)uprobes_read_memory(pid, addr, buf, len);
            else
                (void)uprobes_write_memory(pid, addr, buf, len);
            break;
        }
        default:
            uprobes_on_thread_exit(pid, tid);
        }
        check(machine.lock_depth == 0 && machine.max_lock_depth <= 1);
    }

    for (int id : ids)
        (void)uprobe_unregister(id);
    for (uint32_t p = 1; p <= 3; p++) {
        if (machine.process(p) != nullptr)
            machine.exit(p);
    }
    uprobes_stats s = {};
    uprobes_get_stats(&s);
    check(s.probes_used == 0 && s.sites_used == 0 && s.processes_used == 0 && s.threads_used == 0 &&
          s.programs_used == 0);
    // Program images are taken and given back outside the engine lock, every one of them.
    check(machine.program_hooks_under_lock == 0 && machine.images_held == 0);
    return 0;
}
