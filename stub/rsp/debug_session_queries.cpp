// The q/Q packets of the RSP server layer (GDB manual E.4 "General Query Packets") and the
// qXfer reads (features, osdata, threads).
#include "rsp/debug_session.hpp"
#include "rsp/target_description.hpp"
#include "rsp/tracepoints.hpp"

#include <cstdio>

namespace ruprobes::rsp {

using namespace ruprobes::target;

const std::map<std::string, debug_session::query_handler, std::less<>>& debug_session::queries() {
    static const std::map<std::string, query_handler, std::less<>> table = {
        {"qSupported", &debug_session::q_supported},
        {"QStartNoAckMode", &debug_session::q_start_no_ack},
        {"qfThreadInfo", &debug_session::q_thread_first},
        {"qsThreadInfo", &debug_session::q_thread_next},
        {"qC", &debug_session::q_current_thread},
        {"qAttached", &debug_session::q_attached},
        {"qSymbol", &debug_session::q_symbol},
        {"qRcmd", &debug_session::q_monitor},
    };
    return table;
}

task<void> debug_session::q_supported(const query_req&) {
    // gdb's first packet: a debugger that connects before the kernel is up waits here.
    if (!co_await ensure_ready())
        co_return;
    char size[32];
    std::snprintf(size, sizeof size, "%zx", options_.packet_size);
    reply(std::string("PacketSize=") + size +
          ";QStartNoAckMode+;multiprocess+;swbreak+;qXfer:features:read+;"
          "qXfer:osdata:read+;qXfer:threads:read+;ConditionalBreakpoints+;" +
          tracepoint_session::features());
    co_return;
}

task<void> debug_session::q_start_no_ack(const query_req&) {
    no_ack_ = true;
    reply_ok();
    co_return;
}

task<void> debug_session::q_thread_first(const query_req&) {
    thread_list_.clear();
    thread_next_ = 0;
    if (pid_) {
        auto threads = co_await model_.list_threads(*pid_);
        if (threads)
            thread_list_ = std::move(*threads);
    }
    query_req next; // a named object: g++ 12 destroys temporaries in co_await twice
    co_await q_thread_next(next);
}

task<void> debug_session::q_thread_next(const query_req&) {
    // All threads in one reply: short enough for the processes of the reference kernel.
    std::vector<std::pair<int64_t, int64_t>> ids;
    for (size_t i = thread_next_; i < thread_list_.size(); i++)
        ids.emplace_back(thread_list_[i].id.pid, thread_list_[i].id.tid);
    size_t used = 0;
    reply(replies::thread_list(ids, options_.packet_size / 2, used));
    thread_next_ += used;
    co_return;
}

task<void> debug_session::q_current_thread(const query_req&) {
    auto t = general_thread();
    reply(t ? replies::current_thread(t->pid, t->tid) : replies::unsupported());
    co_return;
}

task<void> debug_session::q_attached(const query_req&) {
    // 1: attached to an existing process (quit detaches); 0: we created it (quit kills).
    reply(replies::attached(attached_));
    co_return;
}

task<void> debug_session::q_symbol(const query_req&) {
    reply_ok(); // no symbols wanted
    co_return;
}

task<std::string> debug_session::processes_osdata() {
    // GDB manual, "qXfer:osdata:read": one item per process, columns pid/user/command.
    std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"osdata.dtd\">\n"
                      "<osdata type=\"processes\">\n";
    auto list = co_await model_.list_processes();
    if (list) {
        for (const auto& p : *list) {
            xml += "<item><column name=\"pid\">" + std::to_string(p.pid) +
                   "</column><column name=\"user\">guest</column><column name=\"command\">" +
                   p.program + "</column><column name=\"state\">" + process_state_name(p.state) +
                   "</column></item>\n";
        }
    }
    xml += "</osdata>\n";
    co_return xml;
}

task<void> debug_session::q_monitor(const query_req& q) {
    // `monitor CMD` (GDB manual E.4, qRcmd): output as O packets, then OK.
    auto bytes = parse_hex_bytes(q.args);
    if (!bytes) {
        reply_error(target_errc::invalid_argument);
        co_return;
    }
    std::string command(bytes->begin(), bytes->end());
    std::string out;
    if (command == "ps") {
        auto list = co_await model_.list_processes();
        if (!list) {
            reply_error(list.error());
            co_return;
        }
        out = "  PID  STATE     PROGRAM\n";
        for (const auto& p : *list) {
            char line[160];
            std::snprintf(line, sizeof line, "%5lld  %-8s  %s%s\n", static_cast<long long>(p.pid),
                          process_state_name(p.state), p.program.c_str(),
                          model_.owner_of(p.pid) ? "  (debugged)" : "");
            out += line;
        }
    } else if (command == "status") {
        target_status st = co_await model_.status();
        out = st.connected ? "connected: " + st.kernel_version + ", boot id " + st.boot_id + "\n"
                           : "not connected to a kernel\n";
    } else {
        out = "ruprobesd monitor commands:\n"
              "  monitor ps      the guest's processes\n"
              "  monitor status  the kernel connection\n";
    }
    reply(replies::console_output(out));
    reply_ok();
}

task<void> debug_session::on(const xfer_read_req& x) {
    if (x.object == "osdata" && (x.annex == "processes" || x.annex.empty())) {
        // A fresh snapshot at offset 0; later chunks come from it. (No co_await inside a
        // conditional expression: g++ 12 miscompiles temporaries there.)
        if (x.offset == 0 || osdata_.empty()) {
            if (x.annex.empty()) {
                osdata_ = "<?xml version=\"1.0\"?>\n<osdata type=\"types\">\n<item><column "
                          "name=\"Type\">processes</column><column name=\"Description\">"
                          "Listing of all processes</column></item>\n</osdata>\n";
            } else {
                std::string xml = co_await processes_osdata();
                osdata_ = std::move(xml);
            }
        }
        reply_xfer_chunk(osdata_, x.offset, x.length);
        co_return;
    }
    if (x.object == "threads" && x.annex.empty()) {
        // gdb's thread list after every stop, in one packet instead of qfThreadInfo and
        // qsThreadInfo. A fresh snapshot at offset 0.
        if (x.offset == 0 || threads_xml_.empty()) {
            std::string xml = "<?xml version=\"1.0\"?>\n<threads>\n";
            if (pid_) {
                auto threads = co_await model_.list_threads(*pid_);
                if (threads) {
                    for (const auto& t : *threads)
                        xml += "<thread id=\"" + format_thread(t.id.pid, t.id.tid) + "\"/>\n";
                }
            }
            xml += "</threads>\n";
            threads_xml_ = std::move(xml);
        }
        reply_xfer_chunk(threads_xml_, x.offset, x.length);
        co_return;
    }
    if (x.object != "features") {
        reply(replies::unsupported());
        co_return;
    }
    if (x.annex != "target.xml") {
        reply_error(target_errc::invalid_argument);
        co_return;
    }
    reply_xfer_chunk(riscv64_target_xml(), x.offset, x.length);
}

void debug_session::reply_xfer_chunk(std::string_view doc, uint64_t offset, uint64_t length) {
    reply(replies::xfer_chunk(doc, offset, std::min<uint64_t>(length, options_.packet_size - 16)));
}

} // namespace ruprobes::rsp
