// Inside the host client of the kernel channel (channel_client.hpp), shared by its .cpp files:
// a reader and a writer coroutine per connection (the Asio chat_server shape), an outgoing
// queue, and one timer per pending request that is both its deadline and its wake-up when the
// answer arrives. Includes Asio: only the client's own sources include this header.
#pragma once

#include "channel/channel_client.hpp"
#include "channel/hit_acks.hpp"
#include "session/session_deadlines.hpp"

#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/fetch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <random>
#include <type_traits>
#include <unordered_map>

namespace ruprobes::channel {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;
using boost::system::error_code;

namespace impl_detail {

// One connection: its socket, the frames waiting to be written, the writer's wake-up and the
// write deadline (the daemon's one session helper, session/session_deadlines.hpp: a kernel that
// stops reading ends the connection; it always holds something, so no idle deadline applies).
struct connection {
    connection(asio::io_context& io, std::chrono::milliseconds write_timeout)
        : socket(io), wake(io), deadlines(io.get_executor(), limits(write_timeout)) {}
    stream::socket socket;
    asio::steady_timer wake;
    std::deque<std::vector<uint8_t>> out;
    bool open = true;
    session::session_deadlines deadlines;

    static session::session_limits limits(std::chrono::milliseconds write_timeout) {
        session::session_limits l;
        l.write_timeout = write_timeout;
        return l;
    }
};

// A request waiting for its response.
struct pending_call {
    explicit pending_call(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    bool answered = false;
    bool disconnected = false;
    uint16_t type = 0;
    std::vector<uint8_t> payload;
};

// A response before typed decoding.
struct raw_reply {
    call_errc errc = call_errc::ok;
    int32_t status = 0;
    wire::frame frame;
    std::vector<uint8_t> payload;
};

inline std::string to_string(wire::bytes b) {
    return std::string(b.begin(), b.end());
}

template <typename T>
call_result<T> fail(call_errc e, int32_t status = 0) {
    return tl::unexpected(call_error{e, status});
}

template <typename T>
call_result<T> fail_like(const raw_reply& raw) {
    return fail<T>(raw.errc, raw.status);
}

template <typename T>
call_result<T> success(T value) {
    return call_result<T>(std::move(value));
}

} // namespace impl_detail

using namespace impl_detail;

struct client::impl : std::enable_shared_from_this<client::impl> {
    impl(asio::io_context& io_, client_options options_, event_handlers handlers_)
        : io(io_), options(options_), handlers(std::move(handlers_)) {
        sid = options.session_id;
        if (sid == 0) {
            std::random_device rd;
            sid = (uint64_t(rd()) << 32) | rd();
            if (sid == 0) {
                sid = 1;
            }
        }
    }

    asio::io_context& io;
    client_options options;
    event_handlers handlers;
    std::shared_ptr<connection> conn;
    std::unordered_map<uint32_t, std::shared_ptr<pending_call>> pending;
    uint32_t next_id = 1;
    std::vector<uint8_t> storage = std::vector<uint8_t>(wire::max_frame);
    wire::frame_decoder decoder{storage};
    wire::decoder_stats decoder_base; // decoder counts of earlier connections
    hello_info last_hello;
    bool had_hello = false;
    uint64_t sid = 0;
    uint64_t expected_seq = 0;
    // Joins hits with the continuation records of their fetched data (ruprobes/wire/fetch.hpp).
    wire::fetch_assembler fetched;
    // Records that arrived after a gap (see on_hits), and how many the client takes before it
    // gives up on the gap: two of the kernel's windows (its hello's hit_window) and a batch.
    uint64_t gap_records = 0;
    static constexpr uint64_t default_hit_window = 512;
    uint64_t max_gap_records() const {
        const uint64_t window =
            last_hello.hit_window != 0 ? last_hello.hit_window : default_hit_window;
        return 2 * window + wire::max_hits_per_frame;
    }
    // Counts a gap given up on and tells the handler.
    void lost_records(uint64_t count) {
        st.seq_gaps += count;
        if (handlers.on_seq_gap) {
            handlers.on_seq_gap(count);
        }
    }
    bool hello_reset = false;   // the hello in flight asked for a reset
    bool hello_applied = false; // its answer was taken in by the reader
    bool session_up = false;    // a hello succeeded on the current connection
    hit_acks acks;              // acknowledgements owed to the kernel (auto_ack_hits)
    asio::steady_timer ack_timer{io};
    bool ack_timer_armed = false;
    channel_stats st;

    // ---- connection life -------------------------------------------------------------------

    void start(std::shared_ptr<connection> c) {
        disconnect("replaced by a new connection", false);
        conn = c;
        session_up = false;
        decoder.reset();
        auto self = shared_from_this();
        c->deadlines.set_holding(true);
        std::weak_ptr<impl> weak = self;
        c->deadlines.start([weak, c](const std::string& reason) {
            if (auto s = weak.lock(); s && s->conn == c) {
                s->disconnect("the kernel stopped reading: " + reason);
            }
        });
        asio::co_spawn(io, reader(self, c), asio::detached);
        asio::co_spawn(io, writer(self, c), asio::detached);
        if (options.lease_ms != 0) {
            asio::co_spawn(io, pinger(self, c), asio::detached);
        }
    }

    void disconnect(const std::string& reason, bool notify = true) {
        if (!conn) {
            return;
        }
        std::shared_ptr<connection> c = std::move(conn);
        conn.reset();
        session_up = false;
        c->open = false;
        c->deadlines.stop();
        error_code ec;
        c->socket.close(ec);
        c->wake.cancel();
        acks.reset(0, 1); // nothing is owed to a kernel before its next hello
        ack_timer_armed = false;
        ack_timer.cancel();
        auto calls = std::move(pending);
        pending.clear();
        for (auto& [id, p] : calls) {
            p->disconnected = true;
            p->timer.cancel();
        }
        if (notify && handlers.on_disconnect) {
            handlers.on_disconnect(reason);
        }
    }

    void send(std::vector<uint8_t> frame) {
        if (!conn || !conn->open) {
            return;
        }
        flush_acks(); // an owed acknowledgement goes first, in the same write
        st.frames_out++;
        conn->out.push_back(std::move(frame));
        conn->wake.cancel();
    }

    static constexpr size_t max_write = 64 * 1024;

    static asio::awaitable<void> writer(std::shared_ptr<impl> self, std::shared_ptr<connection> c) {
        while (c->open) {
            if (c->out.empty()) {
                c->wake.expires_at(asio::steady_timer::time_point::max());
                error_code ec;
                co_await c->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;
            }
            // Everything queued goes in one write: the kernel's agent is woken once for all.
            std::vector<uint8_t> bytes = std::move(c->out.front());
            c->out.pop_front();
            while (!c->out.empty() && bytes.size() + c->out.front().size() <= max_write) {
                bytes.insert(bytes.end(), c->out.front().begin(), c->out.front().end());
                c->out.pop_front();
            }
            error_code ec;
            c->deadlines.write_started();
            co_await asio::async_write(c->socket, asio::buffer(bytes),
                                       asio::redirect_error(asio::use_awaitable, ec));
            c->deadlines.write_finished();
            if (!c->open) {
                co_return;
            }
            if (ec) {
                self->disconnect("write failed: " + ec.message());
                co_return;
            }
            self->st.bytes_out += bytes.size();
        }
    }

    static asio::awaitable<void> reader(std::shared_ptr<impl> self, std::shared_ptr<connection> c) {
        std::vector<uint8_t> buf(65536);
        while (c->open) {
            error_code ec;
            size_t n = co_await c->socket.async_read_some(
                asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
            if (!c->open) {
                co_return;
            }
            if (ec) {
                self->disconnect(ec == asio::error::eof ? "the kernel side closed the channel"
                                                        : "read failed: " + ec.message());
                co_return;
            }
            self->st.bytes_in += n;
            std::span<const uint8_t> in(buf.data(), n);
            while (!in.empty() && c->open) {
                in = in.subspan(self->decoder.feed(in));
                while (c->open) {
                    auto f = self->decoder.next();
                    if (!f) {
                        break;
                    }
                    self->st.frames_in++;
                    self->dispatch(*f);
                }
            }
        }
    }

    static asio::awaitable<void> pinger(std::shared_ptr<impl> self, std::shared_ptr<connection> c) {
        asio::steady_timer timer(self->io);
        auto period = std::chrono::milliseconds(self->options.lease_ms / 3 + 1);
        while (c->open) {
            timer.expires_after(period);
            error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (!c->open || self->conn != c) {
                co_return;
            }
            (void)co_await self->ping(0);
        }
    }

    // ---- incoming frames -------------------------------------------------------------------

    void dispatch(const wire::frame& f) {
        if (wire::is_response(f.type)) {
            auto it = pending.find(f.request_id);
            if (it == pending.end()) {
                st.unmatched_responses++;
                return;
            }
            auto p = it->second;
            if (f.type == wire::hello_response::code) {
                if (auto h = wire::decode<wire::hello_response>(f); h.ok() && h->status == 0) {
                    apply_hello(*h);
                }
            }
            p->answered = true;
            p->type = f.type;
            p->payload.assign(f.payload.begin(), f.payload.end());
            p->timer.cancel();
            return;
        }
        switch (static_cast<wire::msg_type>(f.type)) {
        case wire::msg_type::hits:
            on_hits(f);
            break;
        case wire::msg_type::stop:
            if (auto m = wire::decode<wire::stop_event>(f); m.ok() && handlers.on_stop) {
                stop_info s{m->pid, m->tid, wire::stop_reason(m->reason), m->probe_id,
                            register_values{m->x, m->pc}};
                s.signal = m->signal;
                handlers.on_stop(s);
            }
            break;
        case wire::msg_type::exec:
            if (auto m = wire::decode<wire::exec_event>(f); m.ok() && handlers.on_exec) {
                handlers.on_exec(
                    exec_info{m->pid, m->ppid, to_string(m->path), to_string(m->args)});
            }
            break;
        case wire::msg_type::exit:
            if (auto m = wire::decode<wire::exit_event>(f); m.ok() && handlers.on_exit) {
                handlers.on_exit(exit_info{m->pid, m->status, m->killed != 0});
            }
            break;
        case wire::msg_type::drops:
            if (auto m = wire::decode<wire::drops_event>(f); m.ok()) {
                st.hits_dropped = m->hits_dropped;
                if (handlers.on_drops) {
                    handlers.on_drops(*m);
                }
            }
            break;
        case wire::msg_type::filler:
            st.filler_frames++;
            st.filler_bytes += wire::header_size + f.payload.size() + wire::trailer_size;
            st.last_filler = std::chrono::steady_clock::now();
            break;
        case wire::msg_type::kernel_ready:
            if (auto m = wire::decode<wire::kernel_ready_event>(f);
                m.ok() && handlers.on_kernel_ready) {
                handlers.on_kernel_ready(*m);
            }
            break;
        default:
            break; // a request type from the kernel: not meaningful, ignore
        }
    }

    // The hit stream (channel_hits.cpp): a hits frame's records delivered in seq order (a
    // batch after a gap waits for the kernel's resend), and the acknowledgements, gathered.
    void on_hits(const wire::frame& f);
    void deliver(std::span<const wire::hit_record> records);
    // Records before `next_seq` are taken (hit_acks.hpp says when that is told to the kernel).
    void acknowledge(uint64_t next_seq);
    void flush_acks();
    // Runs flush_acks() after `delay` (once: nothing when the timer is already set).
    void arm_ack_timer(std::chrono::milliseconds delay);
    // How often held acknowledgements (client_options::hold_hit_acks) are reconsidered.
    static constexpr std::chrono::milliseconds ack_recheck_interval{1};
    void ack_hits(uint64_t next_seq);

    // ---- requests --------------------------------------------------------------------------

    // A request encoded and waiting for its answer, not sent yet (send `frame`).
    struct started_call {
        call_errc errc = call_errc::ok;
        uint32_t id = 0;
        std::shared_ptr<pending_call> p;
        std::vector<uint8_t> frame;
    };

    template <typename Req>
    started_call begin_call(const Req& req) {
        started_call c;
        if (!conn) {
            c.errc = call_errc::not_connected;
            return c;
        }
        c.id = next_id++;
        if (next_id == 0) {
            next_id = 1;
        }
        c.frame.resize(wire::max_frame);
        size_t n = wire::encode(c.frame, c.id, req);
        if (n == 0) {
            c.errc = call_errc::malformed;
            return c;
        }
        c.frame.resize(n);
        c.p = std::make_shared<pending_call>(io);
        c.p->timer.expires_after(options.request_timeout);
        pending[c.id] = c.p;
        return c;
    }

    template <typename Req>
    asio::awaitable<raw_reply> call(Req req) {
        auto self = shared_from_this();
        started_call c = begin_call(req);
        if (c.errc != call_errc::ok) {
            raw_reply reply;
            reply.errc = c.errc;
            co_return reply;
        }
        send(std::move(c.frame));
        co_return co_await finish_call<Req>(std::move(c));
    }

    // Two requests written at once (one write, in this order), then both answers: the kernel
    // handles them one after the other without waiting for the host in between.
    template <typename ReqA, typename ReqB>
    asio::awaitable<std::pair<raw_reply, raw_reply>> call_pair(ReqA a, ReqB b) {
        auto self = shared_from_this();
        started_call ca = begin_call(a);
        started_call cb = ca.errc == call_errc::ok ? begin_call(b) : started_call{};
        if (ca.errc != call_errc::ok || cb.errc != call_errc::ok) {
            if (ca.p) {
                pending.erase(ca.id);
            }
            raw_reply failed;
            failed.errc = ca.errc != call_errc::ok ? ca.errc : cb.errc;
            co_return std::pair{failed, failed};
        }
        std::vector<uint8_t> both = std::move(ca.frame);
        both.insert(both.end(), cb.frame.begin(), cb.frame.end());
        st.frames_out++; // send() counts one of the two
        send(std::move(both));
        raw_reply ra = co_await finish_call<ReqA>(std::move(ca));
        raw_reply rb = co_await finish_call<ReqB>(std::move(cb));
        co_return std::pair{std::move(ra), std::move(rb)};
    }

    // Waits for the answer of a sent request (unless it is here already) and checks it.
    template <typename Req>
    asio::awaitable<raw_reply> finish_call(started_call c) {
        auto self = shared_from_this();
        raw_reply reply;
        uint32_t id = c.id;
        std::shared_ptr<pending_call> p = std::move(c.p);
        if (!p->answered && !p->disconnected) {
            error_code ec;
            co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        pending.erase(id);
        if (p->answered) {
            reply.payload = std::move(p->payload);
            reply.frame = wire::frame{p->type, id, reply.payload};
            if (p->type != static_cast<uint16_t>(Req::code | wire::response_bit) ||
                reply.payload.size() < 4) {
                reply.errc = call_errc::malformed;
                co_return reply;
            }
            auto status =
                wire::decode_fields<wire::status_response<wire::msg_type::ping>>(reply.payload);
            if (status->status != 0) {
                reply.errc = call_errc::kernel_status;
                reply.status = status->status;
            }
            if (status->status == wire::status::no_session &&
                Req::code != wire::hello_request::code && session_up) {
                // The kernel ended our session (the lease expired while this process was not
                // scheduled, for instance). Closing the connection makes the owner reconnect and
                // say hello again, as after any disconnect; the session id stays, so the kernel
                // treats it as a reconnect (protocol/README.md §5).
                disconnect("the kernel ended the session (lease expired)");
            }
        } else if (p->disconnected) {
            reply.errc = call_errc::disconnected;
        } else {
            st.timeouts++;
            reply.errc = call_errc::timeout;
        }
        co_return reply;
    }

    // A request whose response is only a status.
    template <typename Req>
    asio::awaitable<call_result<void>> call_void(Req req) {
        auto self = shared_from_this();
        raw_reply raw = co_await call(req);
        if (raw.errc != call_errc::ok)
            co_return fail<void>(raw.errc, raw.status);
        co_return call_result<void>{};
    }

    // A request whose response decodes as `Resp` and becomes the caller's value through
    // `convert`. `req` may view caller-owned bytes: the caller co_awaits this before they go.
    template <typename Resp, typename Req, typename Convert>
    asio::awaitable<call_result<std::invoke_result_t<Convert, const Resp&>>>
    call_decoded(Req req, Convert convert) {
        auto self = shared_from_this();
        raw_reply raw = co_await call(req);
        auto m = decode_reply<Resp>(raw);
        if (!m) {
            co_return tl::unexpected(m.error());
        }
        co_return success(convert(*m));
    }

    template <typename Resp>
    static call_result<Resp> decode_reply(const raw_reply& raw, size_t* used = nullptr) {
        if (raw.errc != call_errc::ok) {
            return fail_like<Resp>(raw);
        }
        wire::frame f{raw.frame.type, raw.frame.request_id, raw.payload};
        auto m = wire::decode<Resp>(f, used);
        if (!m.ok()) {
            return fail<Resp>(call_errc::malformed);
        }
        return success(*m);
    }

    asio::awaitable<call_result<hello_info>> hello(bool reset) {
        auto self = shared_from_this();
        hello_reset = reset;
        hello_applied = false;
        raw_reply raw = co_await call(wire::hello_request{
            .min_version = wire::protocol_version,
            .max_version = wire::protocol_version,
            .capabilities = options.capabilities,
            .session_id = sid,
            .flags = reset ? wire::hello_flag_reset : 0u,
            .lease_ms = options.lease_ms,
        });
        auto m = decode_reply<wire::hello_response>(raw);
        if (!m) {
            co_return tl::unexpected(m.error());
        }
        if (!hello_applied) {
            apply_hello(*m); // normally done by the reader already
        }
        co_return success(last_hello);
    }

    // Takes in the kernel's hello answer. Runs in the reader as soon as the answer arrives, so
    // that hit batches right behind it are counted against the new sequence.
    void apply_hello(const wire::hello_response& r) {
        hello_info info;
        static_cast<wire::hello_response&>(info) = r;
        info.rebooted = had_hello && info.boot_id != last_hello.boot_id;
        uint64_t gone = 0; // records the kernel no longer has
        if (!had_hello || info.rebooted || hello_reset) {
            expected_seq = info.next_hit_seq; // a new sequence
            fetched.reset();
        } else if (info.next_hit_seq > expected_seq) {
            gone = info.next_hit_seq - expected_seq;
            expected_seq = info.next_hit_seq;
            fetched.reset();
        } // else: the kernel sends again what was in flight; duplicates are skipped
        last_hello = info;
        had_hello = true;
        gap_records = 0;
        if (gone != 0) {
            lost_records(gone);
        }
        // The kernel counts as acknowledged what came before its next_hit_seq; what this client
        // has beyond that (records of an earlier connection whose acknowledgement never went)
        // is owed now, or the kernel would keep its window shut on them.
        acks.reset(info.next_hit_seq, options.hit_ack_delay.count() == 0
                                          ? 1
                                          : std::max<uint32_t>(info.hit_window / 4, 1));
        if (expected_seq > info.next_hit_seq) {
            acknowledge(expected_seq);
        }
        hello_applied = true;
        session_up = true;
        st.hits_dropped = info.hits_dropped;
        if (handlers.on_hello) {
            handlers.on_hello(info);
        }
    }

    asio::awaitable<call_result<hello_info>> open(std::string path) {
        auto self = shared_from_this();
        auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
        auto backoff = std::chrono::milliseconds(20);
        while (true) {
            auto c = std::make_shared<connection>(io, options.write_timeout);
            error_code ec;
            co_await c->socket.async_connect(stream::endpoint(path),
                                             asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) {
                start(c);
                break;
            }
            if (std::chrono::steady_clock::now() + backoff >= deadline) {
                co_return fail<hello_info>(call_errc::not_connected);
            }
            asio::steady_timer t(io);
            t.expires_after(backoff);
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
        }
        co_return co_await hello(!had_hello && options.reset_on_first_hello);
    }

    asio::awaitable<call_result<hello_info>> open_fd(int fd) {
        auto self = shared_from_this();
        auto c = std::make_shared<connection>(io, options.write_timeout);
        error_code ec;
        c->socket.assign(stream(), fd, ec);
        if (ec) {
            co_return fail<hello_info>(call_errc::not_connected);
        }
        start(c);
        co_return co_await hello(!had_hello && options.reset_on_first_hello);
    }

    asio::awaitable<call_result<uint64_t>> ping(uint64_t cookie) {
        auto self = shared_from_this();
        raw_reply raw = co_await call(wire::ping_request{.cookie = cookie});
        auto m = decode_reply<wire::ping_response>(raw);
        if (!m) {
            co_return tl::unexpected(m.error());
        }
        co_return success(m->time_ns);
    }

    // Pages through a list (probe_list / process_list / thread_list / aggregation_read).
    template <typename Entry, typename Resp, typename MakeReq, typename Convert>
    asio::awaitable<call_result<std::vector<typename std::invoke_result_t<Convert, Entry>>>>
    list(MakeReq make_request, Convert convert) {
        return list<Entry, Resp>(
            std::move(make_request), [](const Resp&) {}, std::move(convert));
    }

    // The same, and `on_head` sees each page's head (its fields beyond total and count).
    template <typename Entry, typename Resp, typename MakeReq, typename OnHead, typename Convert>
    asio::awaitable<call_result<std::vector<typename std::invoke_result_t<Convert, Entry>>>>
    list(MakeReq make_request, OnHead on_head, Convert convert) {
        using out_type = typename std::invoke_result_t<Convert, Entry>;
        auto self = shared_from_this();
        std::vector<out_type> all;
        uint32_t start = 0;
        while (true) {
            raw_reply raw = co_await call(make_request(start));
            size_t used = 0;
            auto head = decode_reply<Resp>(raw, &used);
            if (!head) {
                co_return tl::unexpected(head.error());
            }
            on_head(*head);
            wire::entry_reader<Entry> entries(wire::bytes(raw.payload).subspan(used), head->count);
            while (auto e = entries.next()) {
                all.push_back(convert(*e));
            }
            if (entries.failed()) {
                co_return fail<std::vector<out_type>>(call_errc::malformed);
            }
            start += head->count;
            if (head->count == 0 || start >= head->total) {
                break;
            }
        }
        co_return success(std::move(all));
    }
};

} // namespace ruprobes::channel
