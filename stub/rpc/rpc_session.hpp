// One JSON-RPC client connection (the Asio chat_server shape): a reader coroutine that frames
// and dispatches incoming messages, and a writer coroutine that drains the outgoing responses and
// the connection's events (pieces of the hub's shared log after its cursor). The limits every
// connection shares (session/): deadlines for writes, for finishing a message and for idling
// while holding nothing, and a bound on queued response bytes. The reader stops reading while too
// many response bytes wait or too many calls are unanswered, so a client that sends without
// reading cannot grow the daemon's memory; only a few calls of a session run at once, so one
// client cannot fill the kernel channel ahead of the others.
#pragma once

#include "rpc/rpc_context.hpp"
#include "rpc/rpc_server_state.hpp"
#include "ruprobes/jsonrpc/framing.hpp"
#include "session/output_queue.hpp"
#include "session/session_deadlines.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <string>

namespace ruprobes::rpc {

class rpc_session : public session_context, public std::enable_shared_from_this<rpc_session> {
public:
    rpc_session(asio::ip::tcp::socket socket, std::shared_ptr<rpc_server::state> server,
                uint64_t id);
    ~rpc_session() override;

    // Starts the coroutines; they keep the session alive until it closes.
    void start();
    // Closes the connection now (queued output is dropped). Safe to call twice.
    void close();
    bool closed() const { return closed_; }
    session::session_deadlines& deadlines() { return deadlines_; }

    events::subscriber& subscriber() override;
    uint64_t session_id() const override { return id_; }
    void schedule(std::function<void()> start) override;
    void call_finished() override;

private:
    asio::awaitable<void> read_loop();
    asio::awaitable<void> write_loop();
    // Sends `size` bytes of `file` from `offset` to the socket with sendfile() (no copy into the
    // socket's buffer), waiting while the socket is full.
    asio::awaitable<void> send_file(int file, uint64_t offset, std::size_t size,
                                    boost::system::error_code& ec);
    // Whether other subscribers may take the events of `batch` too.
    bool shared_by_others(const events::event_batch& batch) const;
    // Dispatches buffered messages; false when it stopped because too many calls are unanswered.
    bool handle_frames();
    // Queues one response text (unframed) for the writer.
    void enqueue(std::string body);
    // Tells the deadlines whether this session holds something (a subscription, calls, replies).
    void update_holding();

    asio::ip::tcp::socket socket_;
    std::shared_ptr<rpc_server::state> server_keep_; // the server's state outlives its sessions
    rpc_server::state& server_;
    uint64_t id_;
    jsonrpc::frame_reader frames_;
    asio::steady_timer writer_wake_;   // never expires: cancel() wakes the writer
    asio::steady_timer reader_resume_; // never expires: cancel() resumes a paused reader
    session::session_deadlines deadlines_;
    session::output_queue responses_;
    std::size_t calls_in_flight_ = 0; // accepted calls not answered yet (running or waiting)
    std::size_t calls_running_ = 0;
    std::deque<std::function<void()>> calls_waiting_;
    std::shared_ptr<events::subscriber> subscriber_;
    bool close_after_flush_ = false; // the stream cannot be read any more: say so, then close
    bool closed_ = false;
};

} // namespace ruprobes::rpc
