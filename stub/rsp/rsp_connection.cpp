#include "rsp/rsp_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace ruprobes::rsp {

namespace net = boost::asio;

rsp_connection::rsp_connection(net::ip::tcp::socket socket, target::target_model& model,
                               session_options options, const session::session_limits& limits)
    : socket_(std::move(socket)), wake_(socket_.get_executor()), out_(limits.max_output),
      deadlines_(socket_.get_executor(), limits), framer_(options.packet_size),
      session_(model, options, [this](std::string payload) { send_packet(std::move(payload)); }) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    socket_.set_option(net::ip::tcp::no_delay(true), ec);
}

rsp_connection::~rsp_connection() = default;

void rsp_connection::start() {
    auto self = shared_from_this();
    deadlines_.start([this](const std::string& reason) { drop(reason); });
    net::co_spawn(
        socket_.get_executor(), [self] { return self->reader(); }, net::detached);
    net::co_spawn(
        socket_.get_executor(), [self] { return self->writer(); }, net::detached);
}

void rsp_connection::stop() {
    deadlines_.stop();
    boost::system::error_code ec;
    socket_.shutdown(net::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    wake_.cancel();
}

void rsp_connection::drop(const std::string& reason) {
    spdlog::warn("rsp client {}: {}; dropping it", peer_, reason);
    out_.clear();
    stop();
}

void rsp_connection::queue_raw(std::string bytes) {
    if (!socket_.is_open())
        return;
    if (!out_.push(std::move(bytes))) {
        drop("more than " + std::to_string(out_.limit()) + " bytes of output unread");
        return;
    }
    wake_.cancel_one();
}

void rsp_connection::send_packet(std::string payload) {
    spdlog::trace("rsp {} <- {}", peer_, payload.substr(0, 200));
    last_packet_ = encode_packet(payload, true);
    queue_raw(last_packet_);
    // The OK to QStartNoAckMode is the last packet the client acknowledges.
    if (session_.no_ack_requested())
        no_ack_ = true;
}

task<void> rsp_connection::reader() {
    spdlog::info("rsp client {} connected", peer_);
    co_await session_.start();
    char buf[4096];
    std::vector<frame> frames;
    while (socket_.is_open()) {
        boost::system::error_code ec;
        size_t n = co_await socket_.async_read_some(net::buffer(buf),
                                                    net::redirect_error(net::use_awaitable, ec));
        if (ec)
            break;
        frames.clear();
        framer_.feed(std::string_view(buf, n), frames);
        for (auto& f : frames) {
            switch (f.kind) {
            case frame_kind::packet:
                spdlog::trace("rsp {} -> {}", peer_, f.payload.substr(0, 200));
                if (!no_ack_)
                    queue_raw("+");
                co_await session_.handle(f.payload);
                break;
            case frame_kind::bad_checksum:
                spdlog::debug("rsp {}: bad checksum", peer_);
                if (!no_ack_)
                    queue_raw("-");
                break;
            case frame_kind::oversize:
            case frame_kind::malformed:
                // The stream is still in sync: refuse this one packet and carry on.
                spdlog::debug("rsp {}: {} packet {}", peer_, frame_kind_name(f.kind), f.payload);
                if (!no_ack_)
                    queue_raw("+");
                send_packet("E09");
                break;
            case frame_kind::nak:
                // One resend at a time: a storm of '-' while it is queued asks for nothing new.
                if (!no_ack_ && !last_packet_.empty() && !resend_queued_) {
                    resend_queued_ = true;
                    queue_raw(last_packet_);
                }
                break;
            case frame_kind::interrupt:
                co_await session_.interrupt();
                break;
            case frame_kind::ack:
                break;
            }
        }
        deadlines_.input();
        deadlines_.set_partial(framer_.in_packet());
        deadlines_.set_holding(session_.pid().has_value());
        if (session_.closing())
            break;
    }
    spdlog::info("rsp client {} disconnected", peer_);
    co_await session_.finish();
    // Let the writer flush the last replies (D's OK), then close.
    deadlines_.stop();
    if (socket_.is_open() && !out_.empty()) {
        wake_.cancel_one();
        net::steady_timer grace(socket_.get_executor(), std::chrono::milliseconds(200));
        boost::system::error_code ec;
        co_await grace.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    stop();
}

task<void> rsp_connection::writer() {
    while (socket_.is_open()) {
        if (out_.empty()) {
            boost::system::error_code ec;
            co_await wake_.async_wait(net::redirect_error(net::use_awaitable, ec));
            continue;
        }
        // Coalesce what is queued into one write: an ack and its reply go out together.
        std::string chunk = out_.take();
        bool had_resend = resend_queued_;
        deadlines_.write_started();
        boost::system::error_code ec;
        co_await net::async_write(socket_, net::buffer(chunk),
                                  net::redirect_error(net::use_awaitable, ec));
        deadlines_.write_finished();
        if (had_resend)
            resend_queued_ = false;
        if (ec)
            break;
    }
}

} // namespace ruprobes::rsp
