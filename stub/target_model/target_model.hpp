// The daemon's view of the guest, shared by the RSP and JSON-RPC front ends: processes, threads,
// stop state, gdb breakpoints (translated to stop-mode probes keyed by program + offset), trace
// probes with hit counts, and the event stream fanned out to subscribers.
//
// Single-threaded: every call and every event handler runs on the daemon's io_context thread.
#pragma once

#include "target_model/target_backend.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace ruprobes::target {

// Who holds a breakpoint or a stopped process: one id per front-end client (RSP session…).
using client_id = uint64_t;

class target_model {
public:
    explicit target_model(target_backend& backend);
    ~target_model();
    target_model(const target_model&) = delete;
    target_model& operator=(const target_model&) = delete;

    target_backend& backend() { return backend_; }

    // ---- status and processes ------------------------------------------------------------
    task<target_status> status();
    // The status as last reported by connected/disconnected events (no round trip).
    const target_status& cached_status() const { return status_; }
    task<outcome<std::vector<process_info>>> list_processes();
    // Info of one process (from the cache, refreshed from the kernel when unknown).
    task<outcome<process_info>> process(pid_type pid);
    // Starts a program; see target_backend::spawn.
    task<outcome<process_info>> spawn(std::vector<std::string> argv, bool stopped);
    task<outcome<void>> kill(pid_type pid);
    // Stops every thread of a running process (gdb attach); stopping a stopped process is fine.
    task<outcome<void>> attach(pid_type pid);

    // ---- threads ---------------------------------------------------------------------------
    // Threads of a process (cached until its exec/exit; states from the stops seen).
    task<outcome<std::vector<thread_info>>> list_threads(pid_type pid);
    task<outcome<void>> stop(thread_id thread);
    task<outcome<void>> resume(thread_id thread, int signal = 0);
    task<outcome<void>> step(thread_id thread);
    // Single-steps a stopped thread on the host when the instruction `text` (its bytes at the
    // thread's pc) qualifies for host_step (target_model/host_step.hpp) and the thread stopped at a
    // breakpoint or after a step, and no client wrote into its process's memory since its exec
    // (then `text` may be stale): the step's stop event (reason step) is delivered before this
    // returns true, with no kernel round trip. The new registers reach the kernel with the
    // thread's next resume, step or stop (sent in one batch with it), or at a register write.
    // False (nothing happened) otherwise: step in the kernel then.
    bool step_on_host(thread_id thread, std::span<const uint8_t> text);
    // Registers of a stopped thread (from its stop event; no kernel round trip).
    task<outcome<registers>> read_registers(thread_id thread);
    task<outcome<void>> write_registers(thread_id thread, const registers& regs);
    // F/D registers of a stopped thread (one kernel round trip per stop, then kept with it).
    task<outcome<fp_registers>> read_fp_registers(thread_id thread);
    task<outcome<void>> write_fp_registers(thread_id thread, const fp_registers& regs);
    // The last stop of a thread that is still stopped; nothing while it runs.
    std::optional<stop_event> last_stop(thread_id thread) const;
    // Any stopped thread of `pid` (the first by tid), with its stop.
    std::optional<stop_event> any_stop(pid_type pid) const;

    // ---- memory ----------------------------------------------------------------------------
    task<outcome<std::vector<uint8_t>>> read_memory(pid_type pid, uint64_t addr, uint64_t len);
    task<outcome<void>> write_memory(pid_type pid, uint64_t addr, std::vector<uint8_t> bytes);

    // ---- breakpoints (gdb Z0/z0) --------------------------------------------------------------
    // A stop-mode probe at runtime address `addr` of process `pid`, held by `owner`. Inserting
    // the same breakpoint again is fine (same id); another owner's breakpoint at the same place
    // is shared and removed when its last owner removes it. `condition` (a condition list, see
    // probe_spec) is evaluated in the kernel; inserting with another condition replaces the
    // site's condition (one per site: the last insert's) under a new id.
    task<outcome<probe_id>> insert_breakpoint(pid_type pid, uint64_t addr, client_id owner,
                                              std::vector<uint8_t> condition = {});
    task<outcome<void>> remove_breakpoint(pid_type pid, uint64_t addr, client_id owner);
    // Removes every breakpoint `owner` holds (detach, client gone). Errors are logged, not
    // returned: the kernel may already be gone.
    task<void> remove_breakpoints_of(client_id owner);
    // The breakpoint probe at `addr` of `pid`, if any.
    std::optional<probe_id> breakpoint_at(pid_type pid, uint64_t addr) const;

    // ---- trace probes (JSON-RPC) -------------------------------------------------------------
    // Registers a trace probe (spec.mode is forced to trace).
    task<outcome<probe_info>> add_trace_probe(probe_spec spec);
    task<outcome<void>> remove_trace_probe(probe_id id);
    std::vector<probe_info> trace_probes() const;
    // The kernel's table of an aggregation probe (one added with spec.aggregation).
    task<outcome<aggregation_table>> read_aggregation(probe_id id);
    // Any probe the model knows (trace or breakpoint), with its hit count.
    std::optional<probe_info> probe(probe_id id) const;

    // ---- gdb tracepoints (the trace buffer is the kernel's) -----------------------------------
    // Passed to the backend as they are: tracepoints are not re-armed in a restarted kernel
    // (their run, and its buffer, are gone with it). Ids are the kernel's probe ids.
    // At runtime address `addr` of process `pid` (spec's program, offset and pid are set here).
    task<outcome<probe_id>> add_tracepoint(pid_type pid, uint64_t addr, tracepoint_spec spec);
    task<outcome<void>> remove_tracepoint(probe_id kernel_id);
    task<outcome<uint32_t>> start_trace(uint32_t buffer_size,
                                        std::vector<std::pair<uint32_t, uint64_t>> variables);
    task<outcome<void>> stop_trace();
    task<outcome<trace_status>> read_trace_status();
    task<outcome<trace_frame>> read_trace_frame(uint32_t number);

    // ---- process ownership (one debugger per process) -----------------------------------------
    // Makes `owner` the debugger of `pid`; false when another client already is.
    bool claim(pid_type pid, client_id owner);
    void release(pid_type pid, client_id owner);
    std::optional<client_id> owner_of(pid_type pid) const;
    // A fresh client id for a front-end connection.
    client_id new_client_id() { return next_client_++; }

    // How the model starts background work (arming trace probes again in a restarted kernel):
    // the daemon passes co_spawn on its io_context. Without one, probes are not re-armed.
    void set_spawner(std::function<void(task<void>)> spawner) { spawner_ = std::move(spawner); }

    // ---- events --------------------------------------------------------------------------------
    using event_handler = std::function<void(const target_event&)>;
    // Unsubscribes when destroyed. Handlers run after the model has updated its own state.
    class subscription {
    public:
        subscription() = default;
        subscription(subscription&& other) noexcept;
        subscription& operator=(subscription&& other) noexcept;
        ~subscription();
        void reset();

    private:
        friend class target_model;
        subscription(std::weak_ptr<bool> alive, target_model* model, uint64_t id)
            : alive_(std::move(alive)), model_(model), id_(id) {}
        std::weak_ptr<bool> alive_;
        target_model* model_ = nullptr;
        uint64_t id_ = 0;
    };
    // Every event of the target, in order, from now on.
    [[nodiscard]] subscription subscribe(event_handler handler);
    // Hits flow at the pace of the slowest reader (target_backend::set_hit_pace).
    void set_hit_pace(std::function<bool()> readers_behind) {
        backend_.set_hit_pace(std::move(readers_behind));
    }

private:
    struct breakpoint {
        probe_id id = 0;
        std::set<client_id> owners;
        std::vector<uint8_t> condition;
    };

    void on_event(const target_event& raw);
    // What on_event does to the model for a stop, a (re)connected kernel, a lost kernel.
    void on_stop(const stop_event& e);
    void on_connected(const connected_event& e);
    void on_disconnected();
    // A model id for a probe the kernel registered as `kernel_id`.
    probe_id map_kernel_id(probe_id kernel_id);
    // Forgets the kernel id of model probe `id`; the kernel id, if it had one.
    std::optional<probe_id> unmap(probe_id id);
    // Registers every trace probe the current kernel does not have yet.
    task<void> rearm_trace_probes();
    // After a reconnect to the same kernel: removes the breakpoints and resumes the threads of
    // the debug sessions that ended with the disconnect.
    task<void> release_orphans();
    // Resumes `thread` with `signal` (a fault no debugger holds).
    task<void> deliver_signal(thread_id thread, int signal);
    void forget_process(pid_type pid);
    // Removes and returns the stops of `thread` (tid 0: every thread of its pid).
    std::vector<std::pair<thread_id, stop_event>> take_stops(thread_id thread);
    // Resumes (or steps) `thread` after writing the registers of host steps (step_on_host) the
    // kernel has not been told of, for the threads in `taken`; in one batch when it is one.
    task<outcome<void>>
    send_registers_and_resume(thread_id thread,
                              const std::vector<std::pair<thread_id, stop_event>>& taken, bool step,
                              int signal);
    // When every stopped thread `thread` names (tid 0: of its pid) was stepped on the host
    // since the kernel last saw it, delivers their stops again, as the kernel does for a stop
    // request to a stopped thread; false (nothing delivered) otherwise.
    bool repeat_host_steps(thread_id thread);
    // Writes the registers of host steps of `thread` (tid 0: of every thread of its pid) the
    // kernel has not been told of.
    task<outcome<void>> send_unsent_registers(thread_id thread);

    target_backend& backend_;
    target_status status_;
    std::map<pid_type, process_info> processes_;
    std::map<thread_id, stop_event> stops_;
    // Registers of threads stepped on the host that the kernel does not have yet.
    std::map<thread_id, registers> unsent_registers_;
    // Processes whose memory a client wrote since their exec: the caller's copy of their text
    // may be stale, so step_on_host leaves them to the kernel.
    std::set<pid_type> memory_written_;
    uint64_t stop_events_ = 0; // stop events seen (read_fp_registers keeps values of one stop)
    std::map<pid_type, std::vector<thread_info>> threads_; // cached until exec/exit
    std::map<std::pair<pid_type, uint64_t>, breakpoint> breakpoints_;
    std::map<probe_id, probe_info> probes_; // trace probes and breakpoints, by model id
    // Probe ids are the model's own, stable when the kernel restarts and probes are armed again
    // under new kernel ids; events are translated on arrival.
    std::map<probe_id, probe_id> kernel_ids_; // model id -> kernel id (armed now)
    std::map<probe_id, probe_id> model_ids_;  // kernel id -> model id
    probe_id next_probe_ = 1;
    std::string armed_boot_id_; // the kernel the mapping is about
    bool disconnected_since_arm_ = false;
    std::vector<probe_id> orphan_probes_; // kernel ids
    std::vector<thread_id> orphan_threads_;
    std::function<void(task<void>)> spawner_;
    std::map<pid_type, client_id> owners_;
    std::map<uint64_t, event_handler> handlers_;
    uint64_t next_handler_ = 1;
    client_id next_client_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace ruprobes::target
