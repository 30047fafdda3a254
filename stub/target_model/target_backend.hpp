// What the target model drives: one kernel (real, over the channel; or a fake in tests). Every
// method is a coroutine on the daemon's io_context thread that completes when the kernel answered.
// Events (stops, exits, probe hits, …) arrive through the event sink, on the same thread, in the
// order the kernel sent them.
#pragma once

#include "target_model/outcome.hpp"
#include "target_model/target_types.hpp"
#include "target_model/task.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace ruprobes::target {

using event_sink = std::function<void(const target_event&)>;

class target_backend {
public:
    virtual ~target_backend() = default;

    // Where events go from now on (one sink: the target model). Set before any request.
    virtual void set_event_sink(event_sink sink) = 0;

    // While `readers_behind` returns true the backend takes no more hit records from the kernel
    // than it has (the kernel waits, then counts its drops): hits flow at the pace of the
    // slowest reader of the event stream. Backends without flow control ignore it.
    virtual void set_hit_pace(std::function<bool()> /*readers_behind*/) {}

    // Connection state, kernel version and boot id. Never fails.
    virtual task<target_status> status() = 0;

    // Every live process of the guest.
    virtual task<outcome<std::vector<process_info>>> list_processes() = 0;
    // Starts argv[0] (a guest path, "/bin/fib") with argv. `stopped`: its main thread stops at
    // the entry before running any instruction (a stop_event with reason spawned follows).
    virtual task<outcome<process_info>> spawn(std::vector<std::string> argv, bool stopped) = 0;
    // Kills the process; an exit_event (signaled, SIGKILL) follows.
    virtual task<outcome<void>> kill(pid_type pid) = 0;

    virtual task<outcome<std::vector<thread_info>>> list_threads(pid_type pid) = 0;
    // Asks the thread to stop (tid 0: every thread of pid). A stop_event with reason interrupt
    // follows for each thread that was running; stopping a stopped thread is not an error.
    virtual task<outcome<void>> stop(thread_id thread) = 0;
    // Resumes a stopped thread (tid 0: every stopped thread of pid), delivering `signal`
    // (gdb numbering, 0 = none) to it.
    virtual task<outcome<void>> resume(thread_id thread, int signal) = 0;
    // Runs one instruction of a stopped thread; a stop_event with reason step follows.
    virtual task<outcome<void>> step(thread_id thread) = 0;

    // What write_registers_then_resume did: whether the registers were written, and the
    // resume's (or step's) outcome.
    struct batch_outcome {
        bool registers_written = false;
        outcome<void> resumed;
    };
    // write_registers(regs_thread, regs), then resume(thread, signal) (step: step(thread)) when
    // the write succeeded. A backend may send both at once (the channel does: one exchange with
    // the kernel instead of two), as long as the kernel carries them out in that order and the
    // resume takes effect only after the write did.
    virtual task<batch_outcome> write_registers_then_resume(thread_id regs_thread,
                                                            const registers& regs, thread_id thread,
                                                            bool step, int signal) {
        batch_outcome out;
        auto w = co_await write_registers(regs_thread, regs);
        if (!w) {
            out.resumed = w;
            co_return out;
        }
        out.registers_written = true;
        if (step)
            out.resumed = co_await this->step(thread);
        else
            out.resumed = co_await resume(thread, signal);
        co_return out;
    }

    // Registers of a stopped thread.
    virtual task<outcome<registers>> read_registers(thread_id thread) = 0;
    virtual task<outcome<void>> write_registers(thread_id thread, const registers& regs) = 0;
    // F/D registers and fcsr of a stopped thread.
    virtual task<outcome<fp_registers>> read_fp_registers(thread_id thread) = 0;
    virtual task<outcome<void>> write_fp_registers(thread_id thread, const fp_registers& regs) = 0;

    // User memory of a process. Reads show the original bytes under armed breakpoints; writes
    // under a breakpoint update the saved original. Fails with bad_address when any byte of the
    // range is not mapped.
    virtual task<outcome<std::vector<uint8_t>>> read_memory(pid_type pid, uint64_t addr,
                                                            uint64_t len) = 0;
    virtual task<outcome<void>> write_memory(pid_type pid, uint64_t addr,
                                             std::vector<uint8_t> bytes) = 0;

    // Registers a probe in the kernel (armed in every running and future process of the
    // program, or only in spec.pid); its id. Fails with unprobeable when the engine refuses it.
    virtual task<outcome<probe_id>> add_probe(probe_spec spec) = 0;
    // Unregisters it; the original bytes are back everywhere.
    virtual task<outcome<void>> remove_probe(probe_id id) = 0;
    // The table of aggregation probe `id` (a probe added with spec.aggregation).
    virtual task<outcome<aggregation_table>> read_aggregation(probe_id id) = 0;

    // gdb tracepoints: the trace buffer lives in the kernel. A backend without them answers
    // unsupported. add_tracepoint's id is a probe id (remove_probe removes it).
    virtual task<outcome<probe_id>> add_tracepoint(tracepoint_spec) { co_return unsupported(); }
    // Starts a run (empty buffer, these variables); the buffer size in effect.
    virtual task<outcome<uint32_t>> start_trace(uint32_t /*buffer_size*/,
                                                std::vector<std::pair<uint32_t, uint64_t>>) {
        co_return unsupported();
    }
    virtual task<outcome<void>> stop_trace() { co_return unsupported(); }
    virtual task<outcome<trace_status>> read_trace_status() { co_return unsupported(); }
    virtual task<outcome<trace_frame>> read_trace_frame(uint32_t /*number*/) {
        co_return unsupported();
    }

private:
    static tl::unexpected<target_error> unsupported() {
        return fail(target_errc::unsupported, "this target has no tracepoints");
    }
};

} // namespace ruprobes::target
