// The RSP server layer's register and memory packets (g/G, p/P with the FP registers, m/M/X) for
// the debugged process: registers from its stop, program text from the host copy, other memory
// through a cache while it is stopped.
#include "rsp/debug_session.hpp"
#include "rsp/target_description.hpp"

#include <algorithm>

namespace ruprobes::rsp {

using namespace ruprobes::target;

task<void> debug_session::on(const read_registers_req&) {
    auto t = general_thread();
    if (!t) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    auto regs = co_await model_.read_registers(*t);
    if (!regs) {
        reply_error(regs.error());
        co_return;
    }
    uint64_t values[registers::count];
    for (int i = 0; i < registers::count; i++)
        values[i] = regs->get(i);
    reply(replies::registers(values));
}

task<void> debug_session::on(const write_registers_req& w) {
    auto t = general_thread();
    if (!t) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    if (w.bytes.size() < registers::count * 8u) {
        reply_error(target_errc::invalid_argument);
        co_return;
    }
    registers regs;
    for (int i = 0; i < registers::count; i++)
        regs.set(i, le_value(w.bytes.data() + 8 * i, 8));
    auto r = co_await model_.write_registers(*t, regs);
    if (r)
        reply_ok();
    else
        reply_error(r.error());
}

task<void> debug_session::on(const read_register_req& p) {
    auto t = general_thread();
    if (!t) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    if (p.regno >= static_cast<unsigned>(registers::count)) {
        // The FPU feature: not in the g packet, read on demand.
        unsigned size = riscv64_register_size(p.regno);
        if (size == 0 || !fp_registers::has(static_cast<int>(p.regno))) {
            reply_error(target_errc::invalid_argument);
            co_return;
        }
        auto fp = co_await model_.read_fp_registers(*t);
        if (!fp)
            reply_error(fp.error());
        else
            reply(replies::register_value(fp->get(static_cast<int>(p.regno)), size));
        co_return;
    }
    auto regs = co_await model_.read_registers(*t);
    if (!regs)
        reply_error(regs.error());
    else
        reply(replies::register_value(regs->get(static_cast<int>(p.regno))));
}

task<void> debug_session::on(const write_register_req& p) {
    auto t = general_thread();
    if (!t) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    if (p.regno >= static_cast<unsigned>(registers::count)) {
        co_await write_fp_register(*t, p);
        co_return;
    }
    if (p.bytes.size() != 8) {
        reply_error(target_errc::invalid_argument);
        co_return;
    }
    auto regs = co_await model_.read_registers(*t);
    if (!regs) {
        reply_error(regs.error());
        co_return;
    }
    regs->set(static_cast<int>(p.regno), le_value(p.bytes.data(), 8));
    auto r = co_await model_.write_registers(*t, *regs);
    if (r)
        reply_ok();
    else
        reply_error(r.error());
}

task<void> debug_session::write_fp_register(thread_id t, const write_register_req& p) {
    const int regno = static_cast<int>(p.regno);
    const unsigned size = riscv64_register_size(p.regno);
    if (size == 0 || !fp_registers::has(regno) || p.bytes.size() != size) {
        reply_error(target_errc::invalid_argument);
        co_return;
    }
    auto fp = co_await model_.read_fp_registers(t);
    if (!fp) {
        reply_error(fp.error());
        co_return;
    }
    fp->set(regno, le_value(p.bytes.data(), size));
    auto r = co_await model_.write_fp_registers(t, *fp);
    if (r)
        reply_ok();
    else
        reply_error(r.error());
}

task<void> debug_session::on(const read_memory_req& m) {
    if (!pid_) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    uint64_t len = std::min<uint64_t>(m.len, (options_.packet_size - 4) / 2);
    if (len == 0) {
        reply(replies::unsupported());
        co_return;
    }
    // Text as the host copy of the program has it (the kernel shows the original bytes under
    // breakpoints too), unless the debugger has written into it.
    if (options_.read_text && !text_written_) {
        if (program_.empty()) {
            if (auto info = co_await model_.process(*pid_))
                program_ = info->program;
        }
        if (!program_.empty() && pid_) {
            if (auto text = options_.read_text(program_, m.addr, len)) {
                reply(replies::memory(*text));
                co_return;
            }
        }
        if (!pid_) {
            reply_error(target_errc::no_such_process);
            co_return;
        }
    }
    // While the process is stopped its memory cannot change behind our back: read whole
    // blocks once and answer gdb's many small reads from them.
    bool stopped = model_.any_stop(*pid_).has_value();
    if (stopped && m.addr + len > m.addr && len <= 4 * memory_cache::block_size) {
        bool complete = true;
        for (uint64_t b = memory_cache::block_of(m.addr);
             b <= memory_cache::block_of(m.addr + len - 1); b += memory_cache::block_size) {
            if (memory_.lookup(b, memory_cache::block_size))
                continue;
            auto block = co_await model_.read_memory(*pid_, b, memory_cache::block_size);
            if (!block) {
                complete = false;
                break;
            }
            memory_.store(b, std::move(*block));
        }
        if (complete) {
            if (auto bytes = memory_.lookup(m.addr, len)) {
                reply(replies::memory(*bytes));
                co_return;
            }
        }
    }
    auto bytes = co_await model_.read_memory(*pid_, m.addr, len);
    if (!bytes && bytes.error().code == target_errc::bad_address) {
        // A read across the end of a mapping: answer the part before the next page, as gdb
        // accepts short reads (and then asks for the rest, which fails).
        uint64_t to_page = 0x1000 - (m.addr & 0xfff);
        if (to_page < len)
            bytes = co_await model_.read_memory(*pid_, m.addr, to_page);
    }
    if (!bytes)
        reply_error(bytes.error());
    else
        reply(replies::memory(*bytes));
}

task<void> debug_session::on(const write_memory_req& m) {
    if (!pid_) {
        reply_error(target_errc::no_such_process);
        co_return;
    }
    if (m.bytes.empty()) { // gdb probes for X support with a zero-length write
        reply_ok();
        co_return;
    }
    memory_.clear();
    if (options_.read_text && !program_.empty() && !text_written_) {
        // A write into text: from now on the host copy no longer tells the truth.
        text_written_ = options_.read_text(program_, m.addr, 1).has_value() ||
                        options_.read_text(program_, m.addr + m.bytes.size() - 1, 1).has_value();
    }
    auto r = co_await model_.write_memory(*pid_, m.addr, m.bytes);
    if (r)
        reply_ok();
    else
        reply_error(r.error());
}

} // namespace ruprobes::rsp
