// The probe registry: programs, sites, probes; validation of a probe address against the
// program's text (instruction boundaries, decodable and probeable instruction).
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"
#include "ruprobes/simulate.hpp"

namespace ruprobes {

namespace {

size_t string_length(const char* s, size_t limit) {
    size_t n = 0;
    while (n <= limit && s[n] != '\0')
        n++;
    return n;
}

void copy_path(program_rec& p, const char* path, size_t n) {
    for (size_t k = 0; k < n; k++)
        p.path[k] = path[k];
    p.path[n] = '\0';
}

// Reads of the program's text in the image the kernel handed over (uprobes_program_image: the
// bytes of [text_begin, text_end) in kernel memory, no hook called).
class text_reader {
public:
    explicit text_reader(const uprobes_program_image& image)
        : text_(static_cast<const uint8_t*>(image.text)), begin_(image.text_begin),
          end_(image.text_end) {}

    // The 16-bit parcel at `addr`, or fault_fetch outside the text (or without text bytes).
    result<uint16_t> parcel(uint64_t addr) const {
        if (text_ == nullptr || addr < begin_ || addr >= end_ || end_ - addr < 2)
            return error::fault_fetch;
        const uint8_t* p = text_ + (addr - begin_);
        return static_cast<uint16_t>(p[0] | p[1] << 8);
    }

private:
    const uint8_t* text_;
    uint64_t begin_, end_;
};

// Instruction length from the low bits of the first parcel (Unprivileged ISA ch. 1.5: 16-bit
// when bits [1:0] != 11, 32-bit when [4:2] != 111; RV64GC has nothing longer).
uint8_t length_of(uint16_t parcel) {
    return (parcel & 3) == 3 ? 4 : 2;
}

} // namespace

probe_rec* engine::probe_by_id(int32_t id) const {
    if (!ready_ || id <= 0)
        return nullptr;
    uint32_t index = static_cast<uint32_t>(id - 1) % limits_.max_probes;
    probe_rec* p = &probes_[index];
    return p->id == id ? p : nullptr;
}

uint32_t engine::find_program(uint64_t key) const {
    for (uint32_t i = 0; i < limits_.max_programs; i++) {
        if (programs_[i].key == key)
            return i;
    }
    return nil;
}

result<uint32_t> engine::find_or_add_program(uint64_t key, const char* path) {
    size_t n = path != nullptr ? string_length(path, max_path_length) : 0;
    if (key == 0 || n > max_path_length)
        return error::invalid_argument;
    uint32_t found = find_program(key);
    if (found != nil) {
        // The name shown is the one the first probe used (the host lists probes by it), else
        // the first exec's.
        program_rec& p = programs_[found];
        if (p.site_head == nil && n > 0)
            copy_path(p, path, n);
        return found;
    }
    for (uint32_t i = 0; i < limits_.max_programs; i++) {
        program_rec& p = programs_[i];
        if (p.key == 0) {
            p = program_rec{};
            p.key = key;
            copy_path(p, path, n);
            programs_used_++;
            return i;
        }
    }
    return error::no_space;
}

// Frees program `program` when nothing refers to it any more.
void engine::release_program(uint32_t program) {
    program_rec& p = programs_[program];
    if (p.site_head == nil && p.process_head == nil && p.key != 0) {
        p = program_rec{};
        programs_used_--;
    }
}

// One linear pass over the text records, for checkpoints_per_program evenly spaced points, the
// first instruction boundary at or after each, so that later validations decode at most one
// stride of text. The pass assumes .text holds only instructions (true of compiled RISC-V code:
// constants live in .rodata; alignment padding is nops or 16-bit zero parcels).
result<void> engine::fill_checkpoints(program_rec& prog, const uprobes_program_image& image) {
    uint64_t size = prog.text_end - prog.text_begin;
    uint64_t stride = (size + checkpoints_per_program - 1) / checkpoints_per_program;
    stride = (stride + 1) & ~uint64_t{1};
    if (stride < 2)
        stride = 2;
    prog.stride = stride;
    const text_reader reader(image);
    uint64_t at = prog.text_begin;
    for (uint32_t i = 0; i < checkpoints_per_program; i++) {
        uint64_t mark = prog.text_begin + stride * i;
        while (at < mark && at < prog.text_end) {
            uint16_t parcel = RUPROBES_TRY(reader.parcel(at));
            at += length_of(parcel);
        }
        prog.checkpoint[i] = at;
    }
    prog.checkpoints_valid = true;
    return {};
}

result<decoded_insn> engine::validate_site(program_rec& prog, const uprobes_program_image& image,
                                           uint64_t addr, bool stop_only) {
    if ((addr & 1) != 0)
        return error::addr_misaligned;
    const uint64_t begin = image.text_begin, end = image.text_end;
    if (addr < begin || addr >= end)
        return error::addr_outside_text;
    if (image.text == nullptr)
        return error::invalid_argument;
    if (!prog.checkpoints_valid || begin != prog.text_begin || end != prog.text_end) {
        prog.text_begin = begin;
        prog.text_end = end;
        RUPROBES_TRY_VOID(fill_checkpoints(prog, image));
    }
    uint64_t index = (addr - begin) / prog.stride;
    if (index >= checkpoints_per_program)
        index = checkpoints_per_program - 1;
    uint64_t at = prog.checkpoint[index];
    const text_reader reader(image);
    while (at < addr) {
        uint16_t parcel = RUPROBES_TRY(reader.parcel(at));
        at += length_of(parcel);
    }
    if (at != addr)
        return error::addr_not_boundary;
    uint8_t bytes[4] = {};
    uint16_t low = RUPROBES_TRY(reader.parcel(addr));
    store_le(bytes, low, 2);
    size_t available = 2;
    if (length_of(low) == 4) {
        if (addr + 4 > end)
            return error::addr_outside_text;
        uint16_t high = RUPROBES_TRY(reader.parcel(addr + 2));
        store_le(bytes + 2, high, 2);
        available = 4;
    }
    decoded_insn insn = RUPROBES_TRY(decode(bytes, available));
    // A stop-mode probe never needs its instruction run by the hit: the thread stops before it,
    // and resume/single_step execute it (out of line, or the kernel makes the system call).
    if (!stop_only)
        RUPROBES_TRY_VOID(probeable(insn));
    return insn;
}

namespace {

// Whether the hit path simulates `insn` from the site's hot line (hit_path.cpp,
// simulate_from_hot_line, through the simulator's simulate_register_only): a register_only()
// instruction whose immediate fits site_hot::imm (all of them: 32 bits at most, spec ch. 2.3).
// Loads, stores and M go through simulate().
bool runs_inline(const decoded_insn& insn) {
    return insn.cls == insn_class::simulate && insn.imm == static_cast<int32_t>(insn.imm) &&
           register_only(insn.op);
}

// Whether the hits of `p` may go to the record sink (written once, in the sink's layout): a
// trace-mode probe with no handler (which would see the context) and a cookie of 0 (the record
// has no room for one).
bool writes_records(const probe_rec& p) {
    return p.handler == nullptr && p.cookie == 0 && p.mode == UPROBES_MODE_TRACE;
}

} // namespace

// Rewrites the hot line of site `index` from the site record and its probes. Called after every
// change to either (registration, unregistration, a debugger write under the breakpoint).
void engine::refresh_hot(uint32_t index) {
    site_rec& site = sites_[index];
    site_hot h;
    site.return_ring = nil;
    site.return_ring_id = 0;
    if (site.program != nil) {
        h.addr = site.addr;
        h.program = site.program;
        h.fast = runs_inline(site.insn);
        if (h.fast) {
            // Registers as byte offsets into uprobes_trap_context::x (hit_path.cpp, hot_offsets).
            static_assert(static_cast<unsigned>(opcode::fence) < 256 &&
                          static_cast<unsigned>(opcode::sraw) < 256);
            opcode op = site.insn.op;
            h.imm = static_cast<int32_t>(site.insn.imm);
            h.rd = static_cast<uint8_t>((site.insn.rd & 31) * 8);
            h.rs1 = static_cast<uint8_t>((site.insn.rs1 & 31) * 8);
            h.rs2 = static_cast<uint8_t>((site.insn.rs2 & 31) * 8);
            h.length = site.insn.length;
            // Writing x0 changes nothing (ch. 2.1): such an operation runs as a fence, so
            // hot_offsets writes rd unconditionally; jal and jalr still jump.
            if (h.rd == 0 && op != opcode::jal && op != opcode::jalr &&
                (op < opcode::beq || op > opcode::bgeu))
                op = opcode::fence;
            h.op = static_cast<uint8_t>(op);
        }
        // At most one plain entry-side consumer and at most one return probe for every pid (its
        // condition and handlers run at the return, from its own record).
        uint32_t entries = 0, returns = 0, plain = nil, ret = nil;
        for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
            if (probes_[i].kind == UPROBES_KIND_RETURN) {
                returns++;
                ret = i;
            }
        }
        if (returns == 1 && probes_[ret].pid == UPROBES_ANY_PID &&
            probes_[ret].condition == nullptr && writes_records(probes_[ret])) {
            site.return_ring = ret;
            site.return_ring_id = static_cast<uint32_t>(probes_[ret].id);
        }
        returns = 0;
        bool simple = site.consumers <= 2;
        for (uint32_t i = site.probe_head; simple && i != nil; i = probes_[i].next_in_site) {
            const probe_rec& p = probes_[i];
            if (p.kind == UPROBES_KIND_RETURN) {
                returns++;
                simple = p.pid == UPROBES_ANY_PID;
            } else {
                entries++;
                plain = i;
                simple = p.condition == nullptr && p.post_handler == nullptr;
            }
        }
        if (simple && entries <= 1 && returns <= 1 && entries + returns > 0) {
            h.path = returns == 0 ? hot_path::plain : hot_path::with_return;
            if (entries == 1) {
                const probe_rec& p = probes_[plain];
                h.entry = writes_records(p) ? hot_entry::ring : hot_entry::plain;
                h.probe_offset = plain * 8;
                h.handler = p.handler;
                h.user = p.user;
                h.cookie = p.cookie;
                h.head.probe_id = static_cast<uint32_t>(p.id);
                h.pid = p.pid;
                h.head.kind = p.kind;
                h.head.mode = p.mode;
                if (h.path == hot_path::plain && h.fast && p.pid == UPROBES_ANY_PID &&
                    p.mode != UPROBES_MODE_STOP)
                    h.path = hot_path::simple;
            }
        }
    }
    hot_[index] = h;
}

// Whether some probe of `site` applies to process `pid`, i.e. the breakpoint belongs there.
bool engine::armed_for(const site_rec& site, uint32_t pid) const {
    if (site.any_pid > 0)
        return true;
    for (uint32_t i = site.probe_head; i != nil; i = probes_[i].next_in_site) {
        if (probes_[i].pid == pid)
            return true;
    }
    return false;
}

result<uint64_t> engine::hit_count(int32_t id) const {
    const probe_rec* p = probe_by_id(id);
    if (p == nullptr)
        return error::not_found;
    return probe_hits_[p - probes_];
}

bool engine::iterate(uint32_t* cursor, uprobes_probe_info* out) const {
    if (!ready_)
        return false;
    for (uint32_t i = *cursor; i < limits_.max_probes; i++) {
        const probe_rec& p = probes_[i];
        if (p.id == 0)
            continue;
        const site_rec& site = sites_[p.site];
        *out = uprobes_probe_info{};
        out->id = p.id;
        out->kind = p.kind;
        out->mode = p.mode;
        out->pid = p.pid;
        out->addr = site.addr;
        out->cookie = p.cookie;
        out->hits = probe_hits_[i];
        const char* path = programs_[site.program].path;
        for (size_t k = 0; k < sizeof(out->path) - 1 && path[k] != '\0'; k++)
            out->path[k] = path[k];
        *cursor = i + 1;
        return true;
    }
    *cursor = limits_.max_probes;
    return false;
}

} // namespace ruprobes
