// A JSON-RPC connection: reader and writer coroutines around one socket, under the session limits.
#include "rpc/rpc_session.hpp"

#include "rpc/event_notifications.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <vector>

namespace ruprobes::rpc {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t read_chunk = 64 * 1024;
// One write gathers up to about this many bytes, so a busy event stream does not starve
// responses and one slow write does not hold a huge batch.
constexpr std::size_t write_batch_bytes = 256 * 1024;
// Pieces of the shared event log per write (asio hands a writev at most 64 buffers).
constexpr std::size_t max_write_pieces = 48;
// Below this, sendfile()'s fixed cost per call is more than the copy it saves: a small run of
// events goes in a gathered write like the rest.
constexpr std::size_t min_file_bytes = 16 * 1024;

// The kinds of event in the chunks `batch` takes from.
uint32_t batch_kinds(const events::event_batch& batch) {
    uint32_t kinds = 0;
    for (const auto& chunk : batch.keep)
        kinds |= chunk->kinds();
    return kinds;
}

void log_exception(std::exception_ptr e, const char* what) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        spdlog::error("rpc: {} failed: {}", what, x.what());
    }
}

} // namespace

rpc_session::rpc_session(asio::ip::tcp::socket socket, std::shared_ptr<rpc_server::state> server,
                         uint64_t id)
    : socket_(std::move(socket)), server_keep_(std::move(server)), server_(*server_keep_), id_(id),
      frames_(server_.options.max_message), writer_wake_(server_.executor),
      reader_resume_(server_.executor), deadlines_(server_.executor, server_.options.limits),
      responses_(server_.options.limits.max_output) {}

rpc_session::~rpc_session() = default;

void rpc_session::start() {
    auto self = shared_from_this();
    deadlines_.start([this](const std::string& reason) {
        spdlog::warn("rpc: session {}: {}; closing", id_, reason);
        close();
    });
    asio::co_spawn(
        server_.executor, [self] { return self->read_loop(); },
        [self](std::exception_ptr e) {
            log_exception(e, "session reader");
            if (e)
                self->close();
        });
    asio::co_spawn(
        server_.executor, [self] { return self->write_loop(); },
        [self](std::exception_ptr e) {
            log_exception(e, "session writer");
            self->close();
        });
}

void rpc_session::close() {
    if (closed_)
        return;
    closed_ = true;
    deadlines_.stop();
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    writer_wake_.cancel();
    reader_resume_.cancel();
    subscriber_.reset(); // leaves the hub: no more events are queued for us
    responses_.clear();
    calls_waiting_.clear(); // calls not started are dropped; running ones answer into nothing
    server_.sessions.erase(id_);
    spdlog::info("rpc: session {} closed", id_);
}

bool rpc_session::shared_by_others(const events::event_batch& batch) const {
    return server_.hub.takers(batch_kinds(batch)) > 1;
}

namespace {

// The bytes the peer of TCP socket `fd` acknowledged so far (Linux's tcpi_bytes_acked, which
// follows the fields of glibc's struct tcp_info); 0 when unknown.
uint64_t bytes_acknowledged(int fd) {
    struct {
        tcp_info base;
        uint64_t pacing_rate;
        uint64_t max_pacing_rate;
        uint64_t bytes_acked;
    } info{};
    static_assert(sizeof(tcp_info) % 8 == 0);
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || len < sizeof info)
        return 0;
    return info.bytes_acked;
}

} // namespace

events::subscriber& rpc_session::subscriber() {
    if (!subscriber_) {
        // The wake callback only cancels a timer: the writer runs later (event_hub's contract).
        subscriber_ = server_.hub.attach([this] { writer_wake_.cancel(); });
        // Its reader's progress: the bytes the peer acknowledged (TCP), which grow while a long
        // write drains into a slow reader.
        subscriber_->set_progress([this] { return bytes_acknowledged(socket_.native_handle()); });
    }
    return *subscriber_;
}

void rpc_session::schedule(std::function<void()> start) {
    if (closed_)
        return;
    calls_in_flight_++;
    if (calls_running_ < server_.options.max_calls_running) {
        calls_running_++;
        start();
    } else {
        calls_waiting_.push_back(std::move(start));
    }
}

void rpc_session::call_finished() {
    if (calls_in_flight_ > 0)
        calls_in_flight_--;
    if (calls_running_ > 0)
        calls_running_--;
    if (closed_)
        return;
    if (!calls_waiting_.empty() && calls_running_ < server_.options.max_calls_running) {
        // Started from the executor, not from here: a chain of calls that answer at once must
        // not nest one stack frame per call.
        calls_running_++;
        auto next = std::move(calls_waiting_.front());
        calls_waiting_.pop_front();
        std::weak_ptr<rpc_session> weak = weak_from_this();
        asio::post(server_.executor, [weak, next = std::move(next)] {
            auto self = weak.lock();
            if (self && !self->closed_)
                next();
        });
    }
    reader_resume_.cancel();
    update_holding();
}

void rpc_session::update_holding() {
    deadlines_.set_holding((subscriber_ && subscriber_->filter_count() > 0) ||
                           calls_in_flight_ > 0 || !responses_.empty());
}

void rpc_session::enqueue(std::string body) {
    if (closed_ || body.empty())
        return;
    responses_.push(std::move(body)); // past the bound the reader pauses (read_loop)
    writer_wake_.cancel();
}

bool rpc_session::handle_frames() {
    using kind = jsonrpc::frame_event::kind;
    while (!closed_ && !close_after_flush_) {
        if (calls_in_flight_ >= server_.options.max_calls_in_flight)
            return false;
        jsonrpc::frame_event e = frames_.next();
        switch (e.what) {
        case kind::need_more:
            return true;
        case kind::oversized:
            spdlog::warn("rpc: session {}: message of {} bytes over the {} byte limit", id_, e.size,
                         frames_.max_message());
            enqueue(jsonrpc::dispatcher::oversized_response(e.size, frames_.max_message()));
            break;
        case kind::bad_header: {
            spdlog::warn("rpc: session {}: bad header ({}); closing", id_, e.reason);
            jsonrpc::rpc_error err{jsonrpc::parse_error, "Parse error",
                                   jsonrpc::json{{"reason", "bad header block: " + e.reason}}};
            enqueue(jsonrpc::to_text(jsonrpc::make_error_response(nullptr, err)));
            close_after_flush_ = true;
            writer_wake_.cancel();
            return true;
        }
        case kind::message: {
            std::weak_ptr<rpc_session> weak = weak_from_this();
            server_.dispatcher.dispatch(e.body, shared_from_this(), [weak](std::string response) {
                auto self = weak.lock();
                if (!self)
                    return;
                self->enqueue(std::move(response));
                self->reader_resume_.cancel();
            });
            break;
        }
        }
    }
    return true;
}

asio::awaitable<void> rpc_session::read_loop() {
    std::vector<char> buffer(read_chunk);
    boost::system::error_code ec;
    bool eof = false;
    while (!closed_ && !close_after_flush_) {
        // Back-pressure: while the client does not read its responses (or too many of its
        // calls are unanswered), stop reading its requests.
        bool drained = handle_frames();
        update_holding();
        // The message deadline runs only while the session waits for the client's bytes, not
        // while whole messages wait for their turn.
        deadlines_.set_partial(drained && frames_.partial());
        if (!drained || responses_.over_limit()) {
            reader_resume_.expires_at(clock::time_point::max());
            co_await reader_resume_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (eof)
            break;
        std::size_t n = co_await socket_.async_read_some(
            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::eof) {
            eof = true; // handle what is buffered, then stop reading
            continue;
        }
        if (ec) {
            if (ec != asio::error::operation_aborted)
                spdlog::info("rpc: session {}: read: {}", id_, ec.message());
            close();
            break;
        }
        frames_.feed(std::string_view(buffer.data(), n));
        deadlines_.input();
    }
    if (closed_ || close_after_flush_)
        co_return;
    // The client sent its last byte. A subscriber may still be listening (`nc` after its input
    // ended): keep the session for its events. Otherwise write what is owed, then close.
    if (subscriber_ && subscriber_->filter_count() > 0)
        co_return;
    close_after_flush_ = true;
    writer_wake_.cancel();
}

asio::awaitable<void> rpc_session::write_loop() {
    boost::system::error_code ec;
    // Each write gathers: this session's own text (responses first, then a loss notice if one
    // is due) and pieces of the hub's shared event log, which are written from where they are
    // (line framing) or copied behind their headers (Content-Length framing). A write takes
    // whatever is available up to write_batch_bytes, so a busy stream makes few large writes.
    std::string own;
    events::event_batch batch;
    std::vector<asio::const_buffer> buffers;
    while (!closed_) {
        const bool lsp = frames_.detected() == jsonrpc::framing::content_length;
        own.clear();
        batch.clear();
        auto add = [&](std::string_view text) {
            if (lsp) {
                own += "Content-Length: ";
                own += std::to_string(text.size());
                own += "\r\n\r\n";
                own += text;
            } else {
                own += text;
                own += '\n';
            }
        };
        while (!responses_.empty() && own.size() < write_batch_bytes)
            add(responses_.pop());
        if (subscriber_ && own.size() < write_batch_bytes) {
            // Line framing writes the pieces where they are (one buffer each); Content-Length
            // framing copies each event behind its header, so it takes any number of them.
            subscriber_->take(batch, write_batch_bytes - own.size(),
                              lsp ? SIZE_MAX : max_write_pieces,
                              lsp ? events::piece_mode::events : events::piece_mode::lines);
            if (batch.lost)
                add(lost_notification(batch.lost, "subscriber_queue_full"));
            if (lsp) {
                for (std::string_view text : batch.pieces)
                    add(text);
                batch.pieces.clear();
            }
        }
        if (own.empty() && batch.pieces.empty()) {
            if (close_after_flush_ && calls_in_flight_ == 0) {
                close();
                break;
            }
            update_holding();
            // Nothing to write (and the subscriber, if any, is idle: the hub wakes us).
            writer_wake_.expires_at(clock::time_point::max());
            co_await writer_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (!responses_.over_limit())
            reader_resume_.cancel();
        // Events that are one run of the log's file, at least min_file_bytes of it, and that
        // other subscribers take too, go with sendfile (the kernel references the file's pages
        // instead of copying the bytes into this socket's buffer; the text is copied into the
        // file once for all of them): busy subscribers that take every event. Otherwise one
        // gathered write.
        uint64_t file_offset = 0;
        std::size_t file_bytes = 0;
        bool from_file = !lsp && batch.file_range(file_offset, file_bytes) &&
                         file_bytes >= min_file_bytes && shared_by_others(batch) &&
                         subscriber_->sync_file();
        buffers.clear();
        if (!own.empty())
            buffers.push_back(asio::buffer(own));
        if (!from_file) {
            for (std::string_view piece : batch.pieces)
                buffers.push_back(asio::buffer(piece.data(), piece.size()));
        }
        deadlines_.write_started();
        ec.clear();
        if (!buffers.empty()) {
            co_await asio::async_write(socket_, buffers,
                                       asio::redirect_error(asio::use_awaitable, ec));
        }
        if (from_file && !ec && !closed_)
            co_await send_file(batch.file, file_offset, file_bytes, ec);
        deadlines_.write_finished();
        if (own.capacity() > 4 * write_batch_bytes)
            std::string().swap(own); // a huge response once: do not keep its buffer
        if (ec) {
            if (ec != asio::error::operation_aborted)
                spdlog::info("rpc: session {}: write: {}", id_, ec.message());
            close();
            break;
        }
    }
}

asio::awaitable<void> rpc_session::send_file(int file, uint64_t offset, std::size_t size,
                                             boost::system::error_code& ec) {
    socket_.native_non_blocking(true, ec);
    auto position = static_cast<off_t>(offset);
    while (!ec && size > 0 && !closed_) {
        ssize_t n = ::sendfile(socket_.native_handle(), file, &position, size);
        if (n > 0) {
            size -= static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
            co_await socket_.async_wait(asio::socket_base::wait_write,
                                        asio::redirect_error(asio::use_awaitable, ec));
        } else if (n < 0 && errno != EINTR) {
            ec = boost::system::error_code(errno, boost::system::system_category());
        } else if (n == 0) {
            ec = asio::error::eof; // the file is shorter than the range: cannot happen
        }
    }
    if (closed_ && !ec)
        ec = asio::error::operation_aborted;
}

} // namespace ruprobes::rpc
