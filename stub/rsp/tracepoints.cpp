#include "rsp/tracepoints.hpp"

#include "rsp/target_description.hpp"
#include "ruprobes/wire/message_types.hpp"
#include "ruprobes/wire/trace_frame.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace ruprobes::rsp {

using namespace ruprobes::target;

namespace {

constexpr size_t max_definitions = 32; // the kernel's tracepoint slots
constexpr size_t max_variables = 63;   // numbers 1..63 (wire::max_trace_variables)
constexpr size_t gdb_registers = 33;   // x0..x31, pc: the g packet

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

// Big-endian operands, as agent expressions carry them.
void put_be(std::vector<uint8_t>& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// An M action as bytecode: [reg base; const64 offset; add | const64 address]; const16 len;
// trace; end.
std::vector<uint8_t> memory_action_bytecode(const tracepoint_action& a) {
    std::vector<uint8_t> code;
    if (a.base_register >= 0) {
        code.push_back(0x26); // reg
        put_be(code, static_cast<uint64_t>(a.base_register), 2);
    }
    code.push_back(0x25); // const64
    put_be(code, a.offset, 8);
    if (a.base_register >= 0)
        code.push_back(0x02); // add
    code.push_back(0x23);     // const16
    put_be(code, a.length, 2);
    code.push_back(0x0c); // trace
    code.push_back(0x27); // end
    return code;
}

const char* stop_reason_text(const trace_status& s) {
    switch (s.stop_reason) {
    case trace_stop_reason::requested:
        return "tstop";
    case trace_stop_reason::full:
        return "tfull";
    case trace_stop_reason::passcount:
        return "tpasscount";
    case trace_stop_reason::error:
        return "terror";
    default:
        return "tnotrun";
    }
}

// An error stop's text for tstatus: the status name the kernel reported.
std::string error_text(int32_t code) {
    return ruprobes::wire::status_name(code);
}

} // namespace

tracepoint_session::tracepoint_session(target_model& model, send_function send,
                                       text_reader read_text)
    : model_(model), send_(std::move(send)), read_text_(std::move(read_text)) {}

const char* tracepoint_session::features() {
    return "ConditionalTracepoints+;QTBuffer:size+;qXfer:traceframe-info:read+";
}

std::vector<uint8_t> tracepoint_session::kernel_actions(const std::vector<tracepoint_action>& acts,
                                                        uint64_t* registers) {
    std::vector<std::vector<uint8_t>> exprs;
    *registers = 0;
    for (const tracepoint_action& a : acts) {
        if (a.kind == 'R')
            *registers |= a.register_mask & ((uint64_t(1) << gdb_registers) - 1);
        else if (a.kind == 'M')
            exprs.push_back(memory_action_bytecode(a));
        else if (a.kind == 'X')
            exprs.push_back(a.bytecode);
    }
    return encode_condition_list(exprs);
}

task<bool> tracepoint_session::handle(const request& req, std::optional<pid_type> pid,
                                      const std::string& program) {
    if (const auto* q = std::get_if<query_req>(&req)) {
        static const char* const names[] = {"QTinit",  "QTDP",   "QTDV",     "QTro",    "QTBuffer",
                                            "QTStart", "QTStop", "qTStatus", "QTFrame", "qTBuffer",
                                            "qTfP",    "qTsP",   "qTfV",     "qTsV",    "qTV"};
        std::string full = (q->set ? "Q" : "q") + q->name; // parse_request drops the q/Q
        for (const char* name : names) {
            if (full == name) {
                query_req named = *q;
                named.name = full;
                co_await on_query(named, pid);
                co_return true;
            }
        }
        co_return false;
    }
    if (const auto* x = std::get_if<xfer_read_req>(&req); x && x->object == "traceframe-info") {
        traceframe_info(*x);
        co_return true;
    }
    if (!selected_)
        co_return false;
    if (std::holds_alternative<read_registers_req>(req)) {
        read_registers();
        co_return true;
    }
    if (const auto* p = std::get_if<read_register_req>(&req)) {
        read_register(p->regno);
        co_return true;
    }
    if (const auto* m = std::get_if<read_memory_req>(&req)) {
        read_memory(m->addr, m->len, program.empty() ? program_ : program);
        co_return true;
    }
    co_return false;
}

task<void> tracepoint_session::on_query(const query_req& q, std::optional<pid_type> pid) {
    const std::string& n = q.name;
    if (n == "QTinit") {
        co_await remove_armed();
        auto r = co_await model_.stop_trace();
        (void)r; // nothing may be running
        definitions_.clear();
        variables_.clear();
        selected_.reset();
        frames_.clear();
        raw_.clear();
        buffer_size_ = 0;
        send_("OK");
    } else if (n == "QTDP") {
        define(q);
    } else if (n == "QTDV") {
        auto v = parse_trace_variable_packet(q.args);
        if (!v || v->number == 0 || v->number > max_variables) {
            send_("E01");
            co_return;
        }
        variables_[v->number] = *v;
        send_("OK");
    } else if (n == "QTro") {
        // Read-only memory is answered from the program's host copy (read_text) anyway.
        send_(parse_readonly_ranges(q.args) ? "OK" : "E01");
    } else if (n == "QTBuffer") {
        if (q.args == "circular:0") {
            send_("OK");
        } else if (q.args.starts_with("size:")) {
            std::string_view size = std::string_view(q.args).substr(5);
            auto v = parse_hex(size);
            if (size == "-1") {
                buffer_size_ = 0;
                send_("OK");
            } else if (v && *v > 0) {
                // The kernel clamps it to its limits; qTStatus's tsize says what it took.
                buffer_size_ = *v > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(*v);
                send_("OK");
            } else {
                send_("E01");
            }
        } else {
            send_("E01"); // a circular buffer is not offered
        }
    } else if (n == "QTStart") {
        co_await start(pid);
    } else if (n == "QTStop") {
        co_await stop();
    } else if (n == "qTStatus") {
        co_await status();
    } else if (n == "QTFrame") {
        co_await select_frame(q);
    } else if (n == "qTBuffer") {
        co_await raw_buffer(q);
    } else if (n == "qTfP" || n == "qTsP") {
        upload_tracepoints(n == "qTfP");
    } else if (n == "qTfV" || n == "qTsV") {
        upload_variables(n == "qTfV");
    } else if (n == "qTV") {
        co_await variable_value(q);
    }
}

void tracepoint_session::define(const query_req& q) {
    auto p = parse_tracepoint_packet(q.args);
    if (!p) {
        send_("E01");
        return;
    }
    if (!p->continuation) {
        // A fast or stepping tracepoint is not offered: refused, so gdb does not believe it set.
        if (p->fast || p->step_count != 0 ||
            (definitions_.size() == max_definitions && !definitions_.contains(p->number))) {
            send_("E02");
            return;
        }
        definitions_[p->number] =
            definition{p->number, p->address, p->enabled, p->passcount, p->condition, {}};
        send_("OK");
        return;
    }
    auto it = definitions_.find(p->number);
    if (it == definitions_.end() || it->second.address != p->address || p->stepping ||
        it->second.actions.size() + p->actions.size() > 64) {
        send_(p->stepping ? "E02" : "E01"); // while-stepping is not supported
        return;
    }
    for (auto& a : p->actions)
        it->second.actions.push_back(std::move(a));
    send_("OK");
}

task<void> tracepoint_session::remove_armed() {
    for (probe_id id : armed_) {
        auto r = co_await model_.remove_tracepoint(id);
        if (!r)
            spdlog::debug("tracepoint probe {}: {}", id, r.error().message);
    }
    armed_.clear();
}

task<void> tracepoint_session::start(std::optional<pid_type> pid) {
    co_await remove_armed();
    selected_.reset();
    frames_.clear();
    raw_.clear();
    if (!pid) {
        send_("E.no process to trace");
        co_return;
    }
    if (auto info = co_await model_.process(*pid))
        program_ = info->program; // frames read its text after the process is gone
    for (const auto& [number, d] : definitions_) {
        if (!d.enabled)
            continue;
        tracepoint_spec spec;
        spec.number = number;
        spec.passcount = d.passcount;
        spec.actions = kernel_actions(d.actions, &spec.registers);
        if (d.condition)
            spec.condition = encode_condition_list({*d.condition});
        auto id = co_await model_.add_tracepoint(*pid, d.address, spec);
        if (!id) {
            co_await remove_armed();
            send_("E.tracepoint " + std::to_string(number) + " at 0x" + hex(d.address) + ": " +
                  id.error().message);
            co_return;
        }
        armed_.push_back(*id);
    }
    std::vector<std::pair<uint32_t, uint64_t>> vars;
    for (const auto& [number, v] : variables_)
        vars.emplace_back(number, v.initial);
    auto size = co_await model_.start_trace(buffer_size_, std::move(vars));
    if (!size) {
        co_await remove_armed();
        send_("E." + size.error().message);
        co_return;
    }
    send_("OK");
}

task<void> tracepoint_session::stop() {
    auto r = co_await model_.stop_trace();
    co_await remove_armed();
    if (!r) {
        send_("E." + r.error().message);
        co_return;
    }
    send_("OK");
}

task<void> tracepoint_session::status() {
    auto s = co_await model_.read_trace_status();
    if (!s) {
        // A target without tracepoints (or no kernel yet): an empty reply says so.
        send_("");
        co_return;
    }
    if (!s->running && !armed_.empty())
        co_await remove_armed(); // the kernel stopped the run (full, passcount, error)
    std::string out = s->running ? "T1" : "T0";
    if (!s->running) {
        out += ";";
        out += stop_reason_text(*s);
        // tstop and terror carry a (hex) text; an empty one for tstop, as gdbserver sends it:
        // gdb's tsave reads it without checking that there is one.
        if (s->stop_reason == trace_stop_reason::requested)
            out += ":";
        if (s->stop_reason == trace_stop_reason::error)
            out += ":" + string_to_hex(error_text(s->error_code));
        out += ":" + hex(s->stopping_tracepoint);
    }
    out += ";tframes:" + hex(s->frames) + ";tcreated:" + hex(s->created) +
           ";tfree:" + hex(s->buffer_free) + ";tsize:" + hex(s->buffer_size) +
           ";circular:0;disconn:0";
    send_(out);
}

task<const trace_frame*> tracepoint_session::frame(uint32_t n) {
    if (auto it = frames_.find(n); it != frames_.end())
        co_return &it->second;
    auto f = co_await model_.read_trace_frame(n);
    if (!f)
        co_return nullptr;
    co_return &(frames_[n] = std::move(*f));
}

uint64_t tracepoint_session::frame_pc(const trace_frame& f) const {
    wire::trace_block_reader blocks(f.data);
    while (auto b = blocks.next()) {
        if (b->tag == wire::trace_block_registers)
            return wire::trace_block_reader::register_value(*b, 32);
    }
    auto d = definitions_.find(f.tracepoint);
    return d != definitions_.end() ? d->second.address : 0;
}

task<void> tracepoint_session::select_frame(const query_req& q) {
    auto p = parse_trace_frame_packet(q.args);
    if (!p) {
        send_("E01");
        co_return;
    }
    if (p->what == trace_frame_packet::kind::number && p->number == -1) {
        selected_.reset();
        send_("OK");
        co_return;
    }
    auto s = co_await model_.read_trace_status();
    uint32_t frames = s ? s->frames : 0;
    uint32_t first = 0, last = frames; // candidates [first, last)
    if (p->what == trace_frame_packet::kind::number) {
        first = static_cast<uint32_t>(p->number);
        last = first < frames ? first + 1 : first;
    } else if (selected_) {
        first = *selected_ + 1; // searches go forward from the selected frame
    }
    for (uint32_t n = first; n < last; n++) {
        const trace_frame* f = co_await frame(n);
        if (f == nullptr)
            break;
        uint64_t pc = frame_pc(*f);
        bool match = true;
        switch (p->what) {
        case trace_frame_packet::kind::number:
            break;
        case trace_frame_packet::kind::pc:
            match = pc == p->start;
            break;
        case trace_frame_packet::kind::tracepoint:
            match = f->tracepoint == p->start;
            break;
        case trace_frame_packet::kind::range:
            match = pc >= p->start && pc <= p->end;
            break;
        case trace_frame_packet::kind::outside:
            match = pc < p->start || pc > p->end;
            break;
        }
        if (match) {
            selected_ = n;
            send_("F" + hex(n) + "T" + hex(f->tracepoint));
            co_return;
        }
    }
    selected_.reset();
    send_("F-1");
}

task<void> tracepoint_session::raw_buffer(const query_req& q) {
    // qTBuffer:offset,length: gdb's tsave copies the buffer as gdbserver lays it out — per
    // frame u16 tracepoint, u32 data size, the blocks (the kernel's blocks have that format).
    auto comma = q.args.find(',');
    auto offset = parse_hex(std::string_view(q.args).substr(0, comma));
    auto length = comma == std::string::npos
                      ? std::nullopt
                      : parse_hex(std::string_view(q.args).substr(comma + 1));
    if (!offset || !length) {
        send_("E01");
        co_return;
    }
    if (*offset == 0 || raw_.empty()) {
        raw_.clear();
        auto s = co_await model_.read_trace_status();
        for (uint32_t n = 0; s && n < s->frames; n++) {
            const trace_frame* f = co_await frame(n);
            if (f == nullptr)
                break;
            for (int b = 0; b < 2; b++)
                raw_.push_back(static_cast<char>(f->tracepoint >> (8 * b)));
            for (int b = 0; b < 4; b++)
                raw_.push_back(static_cast<char>(f->data.size() >> (8 * b)));
            raw_.append(f->data.begin(), f->data.end());
        }
    }
    if (*offset >= raw_.size()) {
        send_("l");
        co_return;
    }
    size_t n = std::min<uint64_t>({*length, raw_.size() - *offset, 0x1000});
    send_(to_hex(reinterpret_cast<const uint8_t*>(raw_.data()) + *offset, n));
}

void tracepoint_session::upload_tracepoints(bool first) {
    if (first) {
        upload_.clear();
        for (const auto& [number, d] : definitions_) {
            std::string t = "T" + hex(number) + ":" + hex(d.address) + ":" +
                            (d.enabled ? "E" : "D") + ":0:" + hex(d.passcount);
            if (d.condition)
                t += ":X" + hex(d.condition->size()) + "," + to_hex(*d.condition);
            upload_.push_back(t);
            for (const auto& a : d.actions)
                upload_.push_back("A" + hex(number) + ":" + hex(d.address) + ":" + a.text);
        }
    }
    if (upload_.empty()) {
        send_("l");
        return;
    }
    send_(upload_.front());
    upload_.erase(upload_.begin());
}

void tracepoint_session::upload_variables(bool first) {
    if (first) {
        upload_.clear();
        for (const auto& [number, v] : variables_)
            upload_.push_back(hex(number) + ":" + hex(v.initial) + ":" + (v.builtin ? "1" : "0") +
                              ":" + string_to_hex(v.name));
    }
    if (upload_.empty()) {
        send_("l");
        return;
    }
    send_(upload_.front());
    upload_.erase(upload_.begin());
}

task<void> tracepoint_session::variable_value(const query_req& q) {
    auto number = parse_hex(q.args);
    if (!number) {
        send_("E01");
        co_return;
    }
    if (selected_) {
        // In a frame: its collected value (tracev), else unknown.
        if (auto it = frames_.find(*selected_); it != frames_.end()) {
            wire::trace_block_reader blocks(it->second.data);
            while (auto b = blocks.next()) {
                if (b->tag == wire::trace_block_variable && b->number == *number) {
                    send_("V" + hex(b->value));
                    co_return;
                }
            }
        }
        send_("U");
        co_return;
    }
    // Else its current value in the kernel (of the last run); unknown before any run.
    auto s = co_await model_.read_trace_status();
    if (s) {
        for (const auto& [n, v] : s->variables) {
            if (n == *number) {
                send_("V" + hex(v));
                co_return;
            }
        }
    }
    send_("U");
}

void tracepoint_session::read_registers() {
    std::string out;
    const trace_frame& f = frames_.at(*selected_);
    wire::trace_block_reader blocks(f.data);
    while (auto b = blocks.next()) {
        if (b->tag == wire::trace_block_registers) {
            for (size_t i = 0; i < gdb_registers; i++)
                out += le_hex(wire::trace_block_reader::register_value(*b, static_cast<int>(i)));
            send_(out);
            return;
        }
    }
    // No registers collected: only the pc is known (the tracepoint's address).
    for (size_t i = 0; i < 32; i++)
        out += std::string(16, 'x');
    out += le_hex(frame_pc(f));
    send_(out);
}

void tracepoint_session::read_register(unsigned regno) {
    const trace_frame& f = frames_.at(*selected_);
    unsigned size = riscv64_register_size(regno);
    if (size == 0) {
        send_("E01");
        return;
    }
    if (regno < gdb_registers) {
        wire::trace_block_reader blocks(f.data);
        while (auto b = blocks.next()) {
            if (b->tag == wire::trace_block_registers) {
                send_(
                    le_hex(wire::trace_block_reader::register_value(*b, static_cast<int>(regno))));
                return;
            }
        }
        if (regno == 32) {
            send_(le_hex(frame_pc(f)));
            return;
        }
    }
    send_(std::string(2 * size, 'x'));
}

void tracepoint_session::read_memory(uint64_t addr, uint64_t len, const std::string& program) {
    const trace_frame& f = frames_.at(*selected_);
    wire::trace_block_reader blocks(f.data);
    while (auto b = blocks.next()) {
        if (b->tag != wire::trace_block_memory)
            continue;
        uint64_t end = b->address + b->memory.size();
        if (addr >= b->address && addr < end) {
            uint64_t n = std::min(len, end - addr);
            send_(to_hex(b->memory.data() + (addr - b->address), n));
            return;
        }
    }
    // Not collected: read-only memory (the program's text) is the same in every frame.
    if (read_text_ && !program.empty()) {
        if (auto text = read_text_(program, addr, len)) {
            send_(to_hex(*text));
            return;
        }
    }
    send_("E01");
}

void tracepoint_session::traceframe_info(const xfer_read_req& x) {
    std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE traceframe-info SYSTEM "
                      "\"traceframe-info.dtd\">\n<traceframe-info>\n";
    if (selected_) {
        wire::trace_block_reader blocks(frames_.at(*selected_).data);
        while (auto b = blocks.next()) {
            if (b->tag == wire::trace_block_memory)
                xml += "<memory start=\"0x" + hex(b->address) + "\" length=\"0x" +
                       hex(b->memory.size()) + "\"/>\n";
            else if (b->tag == wire::trace_block_variable)
                xml += "<tvar id=\"" + std::to_string(b->number) + "\"/>\n";
        }
    }
    xml += "</traceframe-info>\n";
    if (x.offset >= xml.size()) {
        send_("l");
        return;
    }
    std::string chunk = xml.substr(x.offset, x.length);
    bool last = x.offset + chunk.size() >= xml.size();
    send_((last ? "l" : "m") + chunk);
}

task<void> tracepoint_session::finish() {
    if (armed_.empty())
        co_return;
    auto r = co_await model_.stop_trace();
    (void)r;
    co_await remove_armed();
}

} // namespace ruprobes::rsp
