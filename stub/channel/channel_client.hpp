// The host side of the kernel channel: connects to the agent's socket (QEMU's virtio-console
// chardev), performs the hello handshake, sends typed requests with a deadline each, and
// delivers the kernel's events (hit batches, stops, exec/exit, drop counts) to callbacks.
// protocol/README.md is the contract.
//
// Every method runs on the io_context's one thread; callbacks run there too, in the order the
// kernel sent the events. Asio stays in the .cpp: this header needs only the awaitable type.
//
//   channel::client c(io, {.lease_ms = 3000}, handlers);
//   auto hello = co_await c.open("/tmp/agent.sock");
//   auto id = co_await c.probe_add("/bin/fib", fib_address, wire::probe_kind::entry,
//                                  wire::probe_mode::trace);
#pragma once

#include "channel/channel_types.hpp"

#include <utility> // before any Asio header with g++ 12 in C++20 mode

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <span>

namespace boost::asio {
class io_context;
}

namespace ruprobes::channel {

template <typename T>
using awaitable = boost::asio::awaitable<T>;

struct client_options {
    std::chrono::milliseconds request_timeout{5000};  // deadline of every request
    std::chrono::milliseconds connect_timeout{10000}; // open(): retry connecting until then
    // A write to the kernel that makes no progress this long ends the connection (the kernel or
    // QEMU stopped reading); the client reconnects as after any disconnection.
    std::chrono::milliseconds write_timeout{30000};
    uint64_t session_id = 0;          // 0: a random one per client
    bool reset_on_first_hello = true; // the first hello asks the kernel to forget old probes
    uint32_t lease_ms = 0;            // 0: no lease; else pings keep the session alive
    uint32_t capabilities = wire::capability::all;
    bool auto_ack_hits = true; // acknowledge hits batches after on_hits returns, many at once
    // With auto_ack_hits: how long an acknowledgement may wait for a frame to ride with
    // (hit_acks.hpp); it goes at once when a quarter of the kernel's window waits. 0: at once.
    std::chrono::milliseconds hit_ack_delay{5};
    // With auto_ack_hits: while this returns true, owed acknowledgements wait (asked again every
    // millisecond), and the kernel, out of window, sends no more records: the daemon takes hits
    // no faster than its slowest reader (events::event_hub::readers_behind).
    std::function<bool()> hold_hit_acks{};
};

struct event_handlers {
    // A batch of hit records with consecutive seq numbers starting at first_seq.
    // Records of probes without a fetch list; a hit that carries fetched data goes to
    // on_fetched_hit instead (in seq order with these), or, without that handler, here without
    // its data.
    std::function<void(std::span<const wire::hit_record>)> on_hits;
    // A hit record and its fetched data (the items of ruprobes/wire/fetch.hpp, as its
    // continuation records carried them). `complete` is false when some of them never came.
    std::function<void(const wire::hit_record&, std::span<const uint8_t> data, bool complete)>
        on_fetched_hit;
    std::function<void(const stop_info&)> on_stop;
    std::function<void(const exec_info&)> on_exec;
    std::function<void(const exit_info&)> on_exit;
    std::function<void(const wire::drops_event&)> on_drops;
    // `count` records the client gave up waiting for: a gap in the seq numbers that the kernel's
    // resends did not fill (a transport loss), or records a kernel that was reconnected to no
    // longer has. Counted in channel_stats::seq_gaps too.
    std::function<void(uint64_t count)> on_seq_gap;
    std::function<void(const wire::kernel_ready_event&)> on_kernel_ready;
    // A session began: the kernel's hello answer, taken in by the reader before any frame that
    // follows it (open() returns later).
    std::function<void(const hello_info&)> on_hello;
    // The connection ended (EOF, error or close()); pending requests fail with disconnected.
    // Reconnect by calling open() again (the session id is kept, so the kernel keeps state).
    std::function<void(const std::string& reason)> on_disconnect;
};

class client {
public:
    client(boost::asio::io_context& io, client_options options, event_handlers handlers);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Connects to the unix socket `path` (retrying with backoff until connect_timeout: QEMU may
    // not have created it yet) and says hello. The first hello of this client carries `reset`
    // when reset_on_first_hello; later ones (reconnects) keep the kernel's state.
    awaitable<call_result<hello_info>> open(std::string path);
    // The same over an already connected stream socket (e.g. one end of a socketpair); the
    // client owns `fd` from now on.
    awaitable<call_result<hello_info>> open_fd(int fd);
    // Sends hello on the current connection.
    awaitable<call_result<hello_info>> hello(bool reset);
    // Closes the connection (on_disconnect runs); safe to call twice.
    void close();

    bool connected() const;
    // The last successful hello.
    const hello_info& session() const;
    uint64_t session_id() const;
    channel_stats stats() const;

    // The kernel's clock (time_ns) in the answer.
    awaitable<call_result<uint64_t>> ping(uint64_t cookie = 0);

    awaitable<call_result<uint32_t>> probe_add(std::string path, uint64_t address,
                                               wire::probe_kind kind, wire::probe_mode mode,
                                               uint32_t pid = 0,
                                               std::vector<uint8_t> condition = {},
                                               std::vector<uint8_t> fetch = {});
    // An aggregation probe (its path and condition point into the caller's storage).
    awaitable<call_result<uint32_t>> aggregation_add(wire::aggregation_add_request request);
    // The whole table of aggregation probe `probe_id` (pages through it).
    awaitable<call_result<aggregation_table>> aggregation_read(uint32_t probe_id);
    // A gdb tracepoint (its path, condition and actions point into the caller's storage); its
    // probe id (probe_remove removes it).
    awaitable<call_result<uint32_t>> tracepoint_add(wire::tracepoint_add_request request);
    // Starts a trace run with these trace state variables (number, initial value); the buffer
    // size in effect.
    awaitable<call_result<uint32_t>>
    trace_start(uint32_t buffer_size, std::vector<std::pair<uint32_t, uint64_t>> variables);
    awaitable<call_result<void>> trace_stop();
    awaitable<call_result<trace_status_info>> trace_status();
    awaitable<call_result<trace_frame_info>> trace_frame_read(uint32_t number);
    awaitable<call_result<void>> probe_remove(uint32_t probe_id);
    // Every probe (pages through the kernel's list).
    awaitable<call_result<std::vector<probe_entry>>> probe_list();

    awaitable<call_result<std::vector<process_entry>>> process_list();
    // `cmdline`: "/bin/fib 15" (split on spaces by the kernel). `stop_at_entry`: a stop event
    // (reason spawned) follows.
    awaitable<call_result<spawned_process>> process_spawn(std::string cmdline, bool stop_at_entry);
    // `argv` as a list: every argument reaches the program as it is (spaces, empty ones).
    awaitable<call_result<spawned_process>> process_spawn(const std::vector<std::string>& argv,
                                                          bool stop_at_entry);
    awaitable<call_result<void>> process_kill(uint32_t pid);

    awaitable<call_result<std::vector<thread_entry>>> thread_list(uint32_t pid);
    awaitable<call_result<void>> thread_stop(uint32_t pid, uint32_t tid);
    // `signal` (Linux numbering; 0: none) kills a thread that stopped on a fault with it.
    awaitable<call_result<void>> thread_resume(uint32_t pid, uint32_t tid, uint32_t signal = 0);
    awaitable<call_result<void>> thread_step(uint32_t pid, uint32_t tid);

    awaitable<call_result<register_values>> regs_get(uint32_t pid, uint32_t tid);
    // `mask`: bit i sets x_i, bit 32 sets pc.
    awaitable<call_result<void>> regs_set(uint32_t pid, uint32_t tid, uint64_t mask,
                                          register_values values);
    // regs_set, then thread_resume of (resume_pid, resume_tid) with `signal` (step: thread_step),
    // written to the kernel at once: it carries out the resume right after the write, with no
    // exchange with the host in between. Both answers. The resume can succeed after a failed
    // write only where the write failed for a thread that is not stopped (then the resume has
    // nothing to do).
    awaitable<std::pair<call_result<void>, call_result<void>>>
    regs_set_then_resume(uint32_t pid, uint32_t tid, uint64_t mask, register_values values,
                         uint32_t resume_pid, uint32_t resume_tid, bool step, uint32_t signal);
    awaitable<call_result<fp_register_values>> fp_regs_get(uint32_t pid, uint32_t tid);
    // `mask`: bit i sets f_i, bit 32 sets fcsr.
    awaitable<call_result<void>> fp_regs_set(uint32_t pid, uint32_t tid, uint64_t mask,
                                             fp_register_values values);

    // Any length: split into wire::max_mem_chunk requests.
    awaitable<call_result<std::vector<uint8_t>>> mem_read(uint32_t pid, uint64_t address,
                                                          uint64_t length);
    awaitable<call_result<void>> mem_write(uint32_t pid, uint64_t address,
                                           std::vector<uint8_t> bytes);

    // Asks the kernel to send `total_bytes` of filler events (channel throughput benchmark);
    // the filler received is counted in stats().filler_frames / filler_bytes.
    awaitable<call_result<channel_test_result>> channel_test(uint32_t total_bytes,
                                                             uint32_t payload_size);

    // Sends bytes as they are (tests: garbage in the stream).
    void send_raw(std::vector<uint8_t> bytes);
    // Acknowledges hit records up to (not including) `next_seq` (when auto_ack_hits is off).
    void ack_hits(uint64_t next_seq);

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace ruprobes::channel
