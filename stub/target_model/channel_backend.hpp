// The target backend over the kernel channel (stub/channel): a real kernel in QEMU, reached
// through its agent's virtio-console unix socket. Connects (and reconnects with backoff when
// QEMU restarts), translates requests to wire messages and the kernel's events to target events
// (protocol/README.md is the contract).
#pragma once

#include "target_model/target_backend.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace ruprobes::target {

struct channel_backend_options {
    std::string socket_path;                         // the agent's unix socket
    std::chrono::milliseconds request_timeout{5000}; // deadline of every kernel request
    std::chrono::milliseconds max_backoff{5000};     // longest wait between reconnects
};

class channel_backend : public target_backend {
public:
    channel_backend(boost::asio::io_context& io, channel_backend_options options);
    ~channel_backend() override;

    // Starts connecting (in the background; a connected_event follows each successful hello).
    void start();
    // Closes the channel and stops reconnecting.
    void stop();

    void set_event_sink(event_sink sink) override;
    void set_hit_pace(std::function<bool()> readers_behind) override;
    task<target_status> status() override;
    task<outcome<std::vector<process_info>>> list_processes() override;
    task<outcome<process_info>> spawn(std::vector<std::string> argv, bool stopped) override;
    task<outcome<void>> kill(pid_type pid) override;
    task<outcome<std::vector<thread_info>>> list_threads(pid_type pid) override;
    task<outcome<void>> stop(thread_id thread) override;
    task<outcome<void>> resume(thread_id thread, int signal) override;
    task<outcome<void>> step(thread_id thread) override;
    task<outcome<registers>> read_registers(thread_id thread) override;
    task<outcome<void>> write_registers(thread_id thread, const registers& regs) override;
    task<batch_outcome> write_registers_then_resume(thread_id regs_thread, const registers& regs,
                                                    thread_id thread, bool step,
                                                    int signal) override;
    task<outcome<fp_registers>> read_fp_registers(thread_id thread) override;
    task<outcome<void>> write_fp_registers(thread_id thread, const fp_registers& regs) override;
    task<outcome<std::vector<uint8_t>>> read_memory(pid_type pid, uint64_t addr,
                                                    uint64_t len) override;
    task<outcome<void>> write_memory(pid_type pid, uint64_t addr,
                                     std::vector<uint8_t> bytes) override;
    task<outcome<probe_id>> add_probe(probe_spec spec) override;
    task<outcome<void>> remove_probe(probe_id id) override;
    task<outcome<aggregation_table>> read_aggregation(probe_id id) override;
    task<outcome<probe_id>> add_tracepoint(tracepoint_spec spec) override;
    task<outcome<uint32_t>>
    start_trace(uint32_t buffer_size,
                std::vector<std::pair<uint32_t, uint64_t>> variables) override;
    task<outcome<void>> stop_trace() override;
    task<outcome<trace_status>> read_trace_status() override;
    task<outcome<trace_frame>> read_trace_frame(uint32_t number) override;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace ruprobes::target
