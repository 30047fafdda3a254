// RSP server layer: the debugger logic of one gdb client, independent of sockets. It takes
// decoded packets, drives the target model, and hands reply payloads (built by the typed replies of
// ruprobes/rsp/reply.hpp) to a send function; stop
// replies that come later (after c/s/vCont/vAttach or an interrupt) are sent from target events.
//
// The handler table is keyed by packet type: one member function per typed request
// (ruprobes/rsp/request.hpp) and, for q/Q packets, one per query name (see queries()).
#pragma once

#include "rsp/fetch_breakpoints.hpp"
#include "rsp/stop_caches.hpp"
#include "ruprobes/rsp/reply.hpp"
#include "ruprobes/rsp/request.hpp"
#include "target_model/target_model.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ruprobes::rsp {

class spawn_keeper;
class tracepoint_session;

struct session_options {
    // The program of ruprobesd --spawn: vRun's default. Without a keeper, start() spawns it
    // stopped at its entry for this session.
    std::vector<std::string> spawn;
    // The daemon's readiness and its held --spawn process (handed to the first session that
    // asks for a process with '?'). Optional.
    std::shared_ptr<spawn_keeper> keeper;
    // How long a request that needs the kernel waits for it to come up.
    std::chrono::milliseconds ready_timeout{30000};
    // Largest packet payload the session accepts and announces (qSupported PacketSize).
    size_t packet_size = 0x4000;
    // The original bytes [addr, addr + len) of a guest program's text from its host copy (the
    // build makes them byte-identical), or nothing when the range is not all text. Lets gdb's
    // many reads of instructions be answered without asking the kernel. Optional.
    std::function<std::optional<std::vector<uint8_t>>(const std::string& program, uint64_t addr,
                                                      uint64_t len)>
        read_text;
    // A single step over an instruction target_model::step_on_host can compute (its bytes from
    // read_text) is answered without a kernel round trip. False: every step goes to the kernel
    // (ruprobesd --no-host-step).
    bool host_step = true;
};

class debug_session {
public:
    using send_function = std::function<void(std::string payload)>;

    debug_session(target::target_model& model, session_options options, send_function send);
    ~debug_session();
    debug_session(const debug_session&) = delete;
    debug_session& operator=(const debug_session&) = delete;

    // Runs once when the client connects (spawns options.spawn, if any).
    task<void> start();
    // Handles one decoded packet; the reply, if the packet has one now, goes to `send`.
    task<void> handle(std::string_view payload);
    // The client sent 0x03: stop the debugged process if it runs.
    task<void> interrupt();
    // The client is gone (or detached): remove its breakpoints, resume its stopped process,
    // give up ownership. Safe to call twice.
    task<void> finish();

    // After QStartNoAckMode was answered: the connection stops sending and expecting acks.
    bool no_ack_requested() const { return no_ack_; }
    // True after a D / vKill-less k: the client will hang up.
    bool closing() const { return closing_; }
    std::optional<target::pid_type> pid() const { return pid_; }
    target::client_id id() const { return id_; }

    // Stop reply for a stop event (T05…), with pc/sp/ra expedited and thread/swbreak info.
    static std::string stop_reply(const target::stop_event& stop);
    // Exit reply: W<code>;process:<pid> or X<signal>;process:<pid> (gdb's signal numbering).
    static std::string exit_reply(const target::exit_event& exit);

private:
    using query_handler = task<void> (debug_session::*)(const query_req&);

    // ---- one handler per packet type -------------------------------------------------------
    task<void> on(const unknown_req&);
    task<void> on(const malformed_req&);
    task<void> on(const halt_reason_req&);
    task<void> on(const read_registers_req&);
    task<void> on(const write_registers_req&);
    task<void> on(const read_register_req&);
    task<void> on(const write_register_req&);
    // P for a register of the FPU feature (f0..f31, fflags, frm, fcsr).
    task<void> write_fp_register(target::thread_id thread, const write_register_req& p);
    task<void> on(const read_memory_req&);
    task<void> on(const write_memory_req&);
    task<void> on(const breakpoint_req&);
    task<void> on(const continue_req&);
    task<void> on(const set_thread_req&);
    task<void> on(const thread_alive_req&);
    task<void> on(const kill_req&);
    task<void> on(const detach_req&);
    task<void> on(const extended_mode_req&);
    task<void> on(const run_req&);
    task<void> on(const attach_req&);
    task<void> on(const vcont_query_req&);
    task<void> on(const query_req&);
    task<void> on(const xfer_read_req&);

    // ---- q/Q packets (debug_session_queries.cpp) ----------------------------------------------
    static const std::map<std::string, query_handler, std::less<>>& queries();
    task<void> q_supported(const query_req&);
    task<void> q_start_no_ack(const query_req&);
    task<void> q_thread_first(const query_req&);
    task<void> q_thread_next(const query_req&);
    task<void> q_current_thread(const query_req&);
    task<void> q_attached(const query_req&);
    task<void> q_symbol(const query_req&);
    task<void> q_monitor(const query_req&);
    // The guest's processes as gdb's osdata XML (info os processes).
    task<std::string> processes_osdata();
    std::string osdata_;      // snapshot served in chunks by qXfer:osdata:read
    std::string threads_xml_; // snapshot served in chunks by qXfer:threads:read
    // One chunk of `doc` for a qXfer read at `offset` (at most `length` bytes): "m…", or "l…"
    // for the last one.
    void reply_xfer_chunk(std::string_view doc, uint64_t offset, uint64_t length);

    void reply(std::string payload) { send_(std::move(payload)); }
    void reply_ok() { reply(replies::ok()); }
    void reply_error(target::target_errc code);
    void reply_error(const target::target_error& error);
    void on_event(const target::target_event& event);
    // The thread that g/p/m/Z act on: Hg's choice, else the stopped thread of the process.
    std::optional<target::thread_id> general_thread() const;
    // Takes over `pid` as the debugged process; false (after replying E) when another client has
    // it.
    bool adopt(target::pid_type pid);
    void forget_process();
    // The debugged process is gone (exit event, kernel gone): gdb gets `exit` now if it waits
    // for a stop, else at its next resume.
    void process_gone(const target::exit_event& exit);
    // Lets go of the held process before another takes its place (vRun): a spawned one is
    // killed, an attached one resumed, so no process stays stopped without a debugger.
    task<void> let_go();
    // A process spawned for this session that it cannot keep (it is gone or could not claim it).
    task<void> discard_spawned(target::pid_type pid);
    // Waits (once per session, up to ready_timeout) for the kernel to be up; false after
    // replying an error.
    task<bool> ensure_ready();
    // At the first '?' once the daemon is ready: takes its --spawn process, if it still holds
    // one.
    task<bool> take_kept_process();
    bool asked_keeper_ = false;
    bool waited_for_kernel_ = false;
    // Before the debugged process runs again: drop the memory cache, carry out due removals
    // (see deferred_removals).
    task<void> prepare_resume(bool single_step);
    // Steps `thread` on the host (target_model::step_on_host) when host stepping is on and the
    // instruction at its pc is known from the program's host copy; true when it did (the stop
    // reply has been sent).
    task<bool> step_on_host(target::thread_id thread);
    // Whether a Z0 the kernel refused at `addr` can be a fetch breakpoint: mapped user memory
    // of the debugged process outside its program's text.
    task<bool> fetch_breakpoint_allowed(uint64_t addr);

    target::target_model& model_;
    session_options options_;
    send_function send_;
    target::client_id id_;
    target::target_model::subscription events_;
    std::optional<target::pid_type> pid_;
    std::optional<target::tid_type> g_thread_; // Hg
    bool attached_ = false;                    // vAttach (qAttached: 1) vs spawned (0)
    bool waiting_ = false;                     // resumed: the next stop/exit is the reply
    bool attaching_ = false;                   // that stop answers vAttach
    std::optional<std::string> exit_;          // the debugged process exited (for '?')
    // It died while stopped (killed, the kernel went away): gdb still believes it is stopped, and
    // gets exit_ as the reply to its next resume; its breakpoint packets meanwhile succeed.
    std::optional<target::pid_type> gone_;
    // Its last stop when it died on a breakpoint gdb must step over first (see process_gone).
    std::optional<target::stop_event> gone_at_breakpoint_;
    std::optional<target::stop_event> last_stop_; // of the debugged process, as events told it
    // The reply to a resume of the process that died unseen: the exit, or first the end of
    // gdb's step over the breakpoint it stopped at.
    void answer_resume_of_gone(bool single_step);
    // A resume of `pid` failed with `error`: when the process is gone (killed while stopped, its
    // exit event not yet here), answers the resume as if the exit had come first. False when
    // the error is another one.
    bool answer_vanished(target::pid_type pid, const target::target_error& error, bool single_step);
    bool no_ack_ = false;
    bool extended_ = false;
    bool closing_ = false;
    bool finished_ = false;
    std::vector<target::thread_info> thread_list_;    // qfThreadInfo snapshot
    memory_cache memory_;                             // while the process is stopped
    std::string program_;                             // of the debugged process (for read_text)
    bool text_written_ = false;                       // the debugger wrote into its text
    deferred_removals removals_;                      // z0 not yet carried out
    fetch_breakpoints fetch_breakpoints_;             // Z0 outside text (inferior calls)
    std::unique_ptr<tracepoint_session> tracepoints_; // tracepoint packets, trace frames
    boost::asio::any_io_executor executor_;           // of the session (set by start())
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    size_t thread_next_ = 0;
};

} // namespace ruprobes::rsp
