#include "target_model/channel_backend.hpp"

#include "channel/channel_client.hpp"
#include "target_model/signal_numbers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace ruprobes::target {

namespace net = boost::asio;
namespace wire = ruprobes::wire;

namespace {

// A kernel status (protocol/README.md §2) as a target error.
target_errc errc_of_status(int32_t status) {
    switch (status) {
    case wire::status::no_such_process:
        return target_errc::no_such_process;
    case wire::status::no_such_thread:
        return target_errc::no_such_thread;
    case wire::status::not_stopped:
        return target_errc::not_stopped;
    case wire::status::permission_denied:
    case wire::status::bad_address:
        return target_errc::bad_address;
    case wire::status::busy:
        return target_errc::busy;
    case wire::status::no_such_program:
    case wire::status::malformed:
    case wire::status::too_large:
        return target_errc::invalid_argument;
    case wire::status::unsupported_request:
        return target_errc::unsupported;
    case wire::status::no_session:
        return target_errc::not_connected;
    default:
        break;
    }
    auto e = static_cast<error>(status);
    switch (e) {
    case error::not_found:
        return target_errc::no_such_probe;
    case error::already_exists:
        return target_errc::already_exists;
    case error::invalid_argument:
    case error::expr_invalid: // a condition the kernel cannot evaluate
    case error::expr_unsupported:
        return target_errc::invalid_argument;
    default:
        break;
    }
    if (status >= 1 && status <= 10)
        return target_errc::unprobeable; // the engine refused the site
    return target_errc::backend_failure;
}

// The aggregation_add request for `spec` (its path and condition point into `spec`).
wire::aggregation_add_request aggregation_request(const probe_spec& spec, wire::probe_kind kind,
                                                  const aggregation_spec& a) {
    auto key = [](const aggregation_field& f) -> uint8_t {
        using source = aggregation_field::source;
        switch (f.from) {
        case source::pid:
            return uint8_t(wire::aggregation_key::pid);
        case source::tid:
            return uint8_t(wire::aggregation_key::tid);
        case source::arg:
            return uint8_t(uint8_t(wire::aggregation_key::arg0) + f.arg);
        case source::ret:
            return uint8_t(wire::aggregation_key::ret);
        case source::none:
            break;
        }
        return uint8_t(wire::aggregation_key::none);
    };
    auto value = [](const aggregation_field& f) -> uint8_t {
        using source = aggregation_field::source;
        if (f.from == source::arg)
            return uint8_t(uint8_t(wire::aggregation_value::arg0) + f.arg);
        if (f.from == source::ret)
            return uint8_t(wire::aggregation_value::ret);
        return uint8_t(wire::aggregation_value::none); // pid/tid are not values (checked above)
    };
    return wire::aggregation_add_request{
        .pid = spec.pid ? uint32_t(*spec.pid) : 0,
        .kind = uint8_t(kind),
        .key = key(a.by),
        .value = value(a.of),
        .histogram =
            a.histogram == histogram_kind::log2     ? uint8_t(wire::aggregation_histogram::log2)
            : a.histogram == histogram_kind::linear ? uint8_t(wire::aggregation_histogram::linear)
                                                    : uint8_t(wire::aggregation_histogram::none),
        .address = spec.offset,
        .linear_min = uint64_t(a.linear_min),
        .linear_max = uint64_t(a.linear_max),
        .linear_step = a.linear_step,
        .path =
            wire::bytes(reinterpret_cast<const uint8_t*>(spec.program.data()), spec.program.size()),
        .condition = wire::bytes(spec.condition.data(), spec.condition.size()),
    };
}

target_errc errc_of(const channel::call_error& e) {
    switch (e.errc) {
    case channel::call_errc::kernel_status:
        return errc_of_status(e.status);
    case channel::call_errc::timeout:
        return target_errc::timeout;
    case channel::call_errc::disconnected:
    case channel::call_errc::not_connected:
        return target_errc::not_connected;
    default:
        return target_errc::backend_failure;
    }
}

// The target's error for the failed channel request `what` (r holds an error).
template <typename T>
tl::unexpected<target_error> error_of(const channel::call_result<T>& r, const char* what) {
    return fail(errc_of(r.error()), std::string(what) + ": " + channel::describe(r.error()));
}

stop_reason reason_of(wire::stop_reason r) {
    switch (r) {
    case wire::stop_reason::probe:
        return stop_reason::breakpoint;
    case wire::stop_reason::step:
        return stop_reason::step;
    case wire::stop_reason::requested:
        return stop_reason::interrupt;
    case wire::stop_reason::spawned:
        return stop_reason::spawned;
    default:
        return stop_reason::signal;
    }
}

registers regs_of(const channel::register_values& v) {
    registers r;
    r.x = v.x;
    r.x[0] = 0;
    r.pc = v.pc;
    return r;
}

uint32_t u32(int64_t v) {
    return static_cast<uint32_t>(v);
}

// The probe-hit event of a hit record.
probe_hit_event hit_of(const wire::hit_record& rec) {
    probe_hit_event hit;
    hit.probe = rec.probe_id;
    hit.thread = thread_id{rec.pid, rec.tid};
    hit.pc = rec.pc;
    hit.timestamp_ns = rec.time_ns;
    hit.seq = rec.seq;
    registers regs;
    regs.pc = rec.pc;
    for (int i = 0; i < 8; i++)
        regs.x[registers::a0_regno + i] = rec.a[i];
    regs.x[registers::sp_regno] = rec.sp;
    regs.x[registers::ra_regno] = rec.ra;
    hit.regs = regs;
    if (rec.flags & wire::hit_flag_ret_valid)
        hit.return_value = rec.ret;
    return hit;
}

// The fetch list of probe_add for `entries` (ruprobes/wire/fetch.hpp).
std::vector<uint8_t> fetch_list(const std::vector<wire::fetch_entry>& entries) {
    std::vector<uint8_t> out(entries.size() * wire::fetch_entry_size);
    for (size_t i = 0; i < entries.size(); i++)
        wire::write_fetch_entry(out.data() + i * wire::fetch_entry_size, entries[i]);
    return out;
}

} // namespace

struct channel_backend::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io, channel_backend_options o)
        : io(io), options(std::move(o)), wake(io) {}

    net::io_context& io;
    channel_backend_options options;
    std::unique_ptr<channel::client> client;
    event_sink sink;
    std::function<bool()> readers_behind; // set_hit_pace
    target_status status;
    net::steady_timer wake;
    bool stopping = false;
    bool connected = false;
    uint64_t hits_dropped = 0;
    uint32_t capabilities = 0; // of the current session

    void emit(const target_event& e) {
        if (sink)
            sink(e);
    }

    void make_client() {
        channel::event_handlers h;
        std::weak_ptr<impl> weak = weak_from_this();
        h.on_hits = [weak](std::span<const wire::hit_record> records) {
            auto self = weak.lock();
            if (!self)
                return;
            for (const auto& rec : records)
                self->emit(hit_of(rec));
        };
        h.on_fetched_hit = [weak](const wire::hit_record& rec, std::span<const uint8_t> data,
                                  bool complete) {
            auto self = weak.lock();
            if (!self)
                return;
            probe_hit_event hit = hit_of(rec);
            hit.fetch_complete = complete;
            wire::fetch_item_reader items(data);
            while (auto item = items.next())
                hit.fetched.push_back(
                    fetched_item{item->op, item->status, item->value,
                                 std::vector<uint8_t>(item->data.begin(), item->data.end())});
            if (items.failed())
                hit.fetch_complete = false;
            self->emit(hit);
        };
        h.on_stop = [weak](const channel::stop_info& s) {
            if (auto self = weak.lock()) {
                stop_event e;
                e.thread = thread_id{s.pid, s.tid};
                e.reason = reason_of(s.reason);
                e.signal =
                    e.reason == stop_reason::interrupt ? gdb_signal::sigint : gdb_signal::sigtrap;
                if (s.reason == wire::stop_reason::fault && s.signal != 0)
                    e.signal = gdb_signal_of_linux(s.signal);
                e.regs = regs_of(s.regs);
                if (s.probe_id != 0)
                    e.probe = s.probe_id;
                self->emit(e);
            }
        };
        h.on_exec = [weak](const channel::exec_info& x) {
            if (auto self = weak.lock())
                self->emit(exec_event{x.pid, x.path});
        };
        h.on_exit = [weak](const channel::exit_info& x) {
            if (auto self = weak.lock()) {
                // A kill by the kernel (fault) or process_kill: SIGKILL unless the kernel reports
                // a plausible signal number (Linux numbering, as JSON-RPC reports it too).
                int sig = x.status > 0 && x.status < 32 ? x.status : gdb_signal::sigkill;
                self->emit(exit_event{x.pid, x.killed, x.killed ? sig : x.status & 0xff});
            }
        };
        h.on_drops = [weak](const wire::drops_event& d) {
            if (auto self = weak.lock()) {
                if (d.hits_dropped > self->hits_dropped) {
                    self->emit(events_lost_event{d.hits_dropped - self->hits_dropped});
                    self->hits_dropped = d.hits_dropped;
                }
            }
        };
        h.on_seq_gap = [weak](uint64_t count) {
            if (auto self = weak.lock()) {
                spdlog::warn("channel: {} hit records lost in transit (a seq gap not resent)",
                             count);
                self->emit(events_lost_event{.count = count, .transport = true});
            }
        };
        h.on_hello = [weak](const channel::hello_info& hello) {
            if (auto self = weak.lock())
                self->on_session(hello);
        };
        h.on_kernel_ready = [weak](const wire::kernel_ready_event& k) {
            auto self = weak.lock();
            if (!self || !self->connected)
                return;
            char id[24];
            std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(k.boot_id));
            if (self->status.boot_id == id)
                return;
            // The kernel rebooted under an open socket: a new session is needed.
            spdlog::warn("channel: kernel rebooted (boot id {}), saying hello again", id);
            self->client->close();
        };
        h.on_disconnect = [weak](const std::string& reason) {
            if (auto self = weak.lock()) {
                if (!self->connected)
                    return;
                self->connected = false;
                self->status = target_status{};
                spdlog::warn("channel: disconnected: {}", reason);
                self->emit(disconnected_event{reason});
                self->wake.cancel();
            }
        };
        channel::client_options co;
        co.request_timeout = options.request_timeout;
        co.connect_timeout = std::chrono::milliseconds(2000);
        co.lease_ms = 10000;
        co.hold_hit_acks = [weak] {
            auto self = weak.lock();
            return self && self->readers_behind && self->readers_behind();
        };
        client = std::make_unique<channel::client>(io, co, std::move(h));
    }

    // A session began: target.connected goes out before any event of the new connection (the
    // reader calls this as soon as the hello answer arrives, before the frames behind it).
    void on_session(const channel::hello_info& hello) {
        char id[24];
        std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(hello.boot_id));
        status =
            target_status{true, "ruprobes agent, protocol v" + std::to_string(hello.version), id};
        hits_dropped = hello.hits_dropped;
        capabilities = hello.capabilities;
        connected = true;
        spdlog::info("channel: connected to {} (boot id {}, {} threads stopped)",
                     options.socket_path, id, hello.stopped_threads);
        emit(connected_event{status});
    }

    task<void> connect_loop() {
        auto self = shared_from_this();
        std::chrono::milliseconds backoff{100};
        while (!stopping) {
            auto hello = co_await client->open(options.socket_path);
            if (stopping)
                break;
            if (hello) {
                backoff = std::chrono::milliseconds(100);
                if (!connected)
                    on_session(*hello); // normally done by the reader already
                // Sleep until the connection ends (on_disconnect cancels the timer).
                wake.expires_at(std::chrono::steady_clock::time_point::max());
                boost::system::error_code ec;
                while (connected && !stopping)
                    co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
                continue;
            }
            spdlog::debug("channel: cannot connect to {}: {}; retrying in {} ms",
                          options.socket_path, channel::describe(hello), backoff.count());
            wake.expires_after(backoff);
            boost::system::error_code ec;
            co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
            backoff = std::min(backoff * 2, options.max_backoff);
        }
    }
};

channel_backend::channel_backend(net::io_context& io, channel_backend_options options)
    : impl_(std::make_shared<impl>(io, std::move(options))) {
    impl_->make_client();
}

channel_backend::~channel_backend() {
    stop();
}

void channel_backend::start() {
    net::co_spawn(impl_->io, impl_->connect_loop(), net::detached);
}

void channel_backend::stop() {
    impl_->stopping = true;
    impl_->wake.cancel();
    if (impl_->client)
        impl_->client->close();
}

void channel_backend::set_event_sink(event_sink sink) {
    impl_->sink = std::move(sink);
}

void channel_backend::set_hit_pace(std::function<bool()> readers_behind) {
    impl_->readers_behind = std::move(readers_behind);
}

task<target_status> channel_backend::status() {
    co_return impl_->status;
}

task<outcome<std::vector<process_info>>> channel_backend::list_processes() {
    auto r = co_await impl_->client->process_list();
    if (!r)
        co_return error_of(r, "process_list");
    std::vector<process_info> out;
    for (const auto& p : *r) {
        process_state s = p.state == wire::process_state::running   ? process_state::running
                          : p.state == wire::process_state::stopped ? process_state::stopped
                                                                    : process_state::exited;
        out.push_back(process_info{p.pid, p.path, s, 0});
    }
    co_return out;
}

task<outcome<process_info>> channel_backend::spawn(std::vector<std::string> argv, bool stopped) {
    auto r = co_await impl_->client->process_spawn(argv, stopped);
    if (!r)
        co_return error_of(r, "process_spawn");
    co_return process_info{r->pid, argv[0],
                           stopped ? process_state::stopped : process_state::running, 0};
}

task<outcome<void>> channel_backend::kill(pid_type pid) {
    auto r = co_await impl_->client->process_kill(u32(pid));
    if (!r)
        co_return error_of(r, "process_kill");
    co_return outcome<void>{};
}

task<outcome<std::vector<thread_info>>> channel_backend::list_threads(pid_type pid) {
    auto r = co_await impl_->client->thread_list(u32(pid));
    if (!r)
        co_return error_of(r, "thread_list");
    std::vector<thread_info> out;
    for (const auto& t : *r)
        out.push_back(thread_info{thread_id{pid, t.tid}, t.state == wire::thread_state::stopped
                                                             ? thread_state::stopped
                                                             : thread_state::running});
    co_return out;
}

task<outcome<void>> channel_backend::stop(thread_id thread) {
    auto r = co_await impl_->client->thread_stop(u32(thread.pid), u32(thread.tid));
    if (!r)
        co_return error_of(r, "thread_stop");
    co_return outcome<void>{};
}

task<outcome<void>> channel_backend::resume(thread_id thread, int signal) {
    // The kernel delivers a signal by ending the process with it (its programs install no
    // handlers): a signal Linux has goes to the kernel in its numbering; others are dropped.
    auto r = co_await impl_->client->thread_resume(u32(thread.pid), u32(thread.tid),
                                                   u32(linux_signal_of_gdb(signal)));
    if (!r)
        co_return error_of(r, "thread_resume");
    co_return outcome<void>{};
}

task<outcome<void>> channel_backend::step(thread_id thread) {
    auto r = co_await impl_->client->thread_step(u32(thread.pid), u32(thread.tid));
    if (!r)
        co_return error_of(r, "thread_step");
    co_return outcome<void>{};
}

task<outcome<registers>> channel_backend::read_registers(thread_id thread) {
    auto r = co_await impl_->client->regs_get(u32(thread.pid), u32(thread.tid));
    if (!r)
        co_return error_of(r, "regs_get");
    co_return regs_of(*r);
}

task<outcome<void>> channel_backend::write_registers(thread_id thread, const registers& regs) {
    channel::register_values v;
    v.x = regs.x;
    v.pc = regs.pc;
    uint64_t mask = ((uint64_t{1} << 33) - 1) & ~uint64_t{1}; // x1..x31 and pc
    auto r = co_await impl_->client->regs_set(u32(thread.pid), u32(thread.tid), mask, v);
    if (!r)
        co_return error_of(r, "regs_set");
    co_return outcome<void>{};
}

task<target_backend::batch_outcome>
channel_backend::write_registers_then_resume(thread_id regs_thread, const registers& regs,
                                             thread_id thread, bool step, int signal) {
    channel::register_values v;
    v.x = regs.x;
    v.pc = regs.pc;
    uint64_t mask = ((uint64_t{1} << 33) - 1) & ~uint64_t{1}; // x1..x31 and pc
    auto [w, r] = co_await impl_->client->regs_set_then_resume(
        u32(regs_thread.pid), u32(regs_thread.tid), mask, v, u32(thread.pid), u32(thread.tid), step,
        step ? 0 : u32(linux_signal_of_gdb(signal)));
    batch_outcome out;
    out.registers_written = static_cast<bool>(w);
    if (!w)
        out.resumed = error_of(w, "regs_set");
    else if (!r)
        out.resumed = error_of(r, step ? "thread_step" : "thread_resume");
    co_return out;
}

task<outcome<fp_registers>> channel_backend::read_fp_registers(thread_id thread) {
    auto r = co_await impl_->client->fp_regs_get(u32(thread.pid), u32(thread.tid));
    if (!r)
        co_return error_of(r, "fp_regs_get");
    fp_registers out;
    out.f = r->f;
    out.fcsr = r->fcsr & fp_registers::fcsr_bits;
    co_return out;
}

task<outcome<void>> channel_backend::write_fp_registers(thread_id thread,
                                                        const fp_registers& regs) {
    channel::fp_register_values v;
    v.f = regs.f;
    v.fcsr = regs.fcsr;
    uint64_t mask = (uint64_t{1} << 33) - 1; // f0..f31 and fcsr
    auto r = co_await impl_->client->fp_regs_set(u32(thread.pid), u32(thread.tid), mask, v);
    if (!r)
        co_return error_of(r, "fp_regs_set");
    co_return outcome<void>{};
}

task<outcome<std::vector<uint8_t>>> channel_backend::read_memory(pid_type pid, uint64_t addr,
                                                                 uint64_t len) {
    auto r = co_await impl_->client->mem_read(u32(pid), addr, len);
    if (!r)
        co_return error_of(r, "mem_read");
    co_return std::move(*r);
}

task<outcome<void>> channel_backend::write_memory(pid_type pid, uint64_t addr,
                                                  std::vector<uint8_t> bytes) {
    auto r = co_await impl_->client->mem_write(u32(pid), addr, std::move(bytes));
    if (!r)
        co_return error_of(r, "mem_write");
    co_return outcome<void>{};
}

task<outcome<probe_id>> channel_backend::add_probe(probe_spec spec) {
    auto kind = spec.kind == probe_kind::entry ? wire::probe_kind::entry
                : spec.kind == probe_kind::ret ? wire::probe_kind::ret
                                               : wire::probe_kind::insn;
    if (spec.aggregation) {
        auto r = co_await impl_->client->aggregation_add(
            aggregation_request(spec, kind, *spec.aggregation));
        if (!r)
            co_return error_of(r, "aggregation_add");
        co_return probe_id{*r};
    }
    auto mode = spec.mode == probe_mode::stop ? wire::probe_mode::stop : wire::probe_mode::trace;
    if (!spec.fetch.empty() && impl_->connected &&
        (impl_->capabilities & wire::capability::fetch_records) == 0)
        co_return fail(
            target_errc::unsupported,
            "probe_add: the kernel's agent does not fetch (no fetch_records capability)");
    auto r = co_await impl_->client->probe_add(spec.program, spec.offset, kind, mode,
                                               spec.pid ? u32(*spec.pid) : 0, spec.condition,
                                               fetch_list(spec.fetch));
    if (!r)
        co_return error_of(r, "probe_add");
    co_return probe_id{*r};
}

task<outcome<aggregation_table>> channel_backend::read_aggregation(probe_id id) {
    auto r = co_await impl_->client->aggregation_read(static_cast<uint32_t>(id));
    if (!r)
        co_return error_of(r, "aggregation_read");
    co_return std::move(*r);
}

task<outcome<void>> channel_backend::remove_probe(probe_id id) {
    auto r = co_await impl_->client->probe_remove(static_cast<uint32_t>(id));
    if (!r)
        co_return error_of(r, "probe_remove");
    co_return outcome<void>{};
}

task<outcome<probe_id>> channel_backend::add_tracepoint(tracepoint_spec spec) {
    wire::tracepoint_add_request req{
        .pid = spec.pid ? u32(*spec.pid) : 0,
        .number = spec.number,
        .address = spec.offset,
        .passcount = spec.passcount,
        .registers = spec.registers,
        .path =
            wire::bytes(reinterpret_cast<const uint8_t*>(spec.program.data()), spec.program.size()),
        .condition = wire::bytes(spec.condition.data(), spec.condition.size()),
        .actions = wire::bytes(spec.actions.data(), spec.actions.size())};
    auto r = co_await impl_->client->tracepoint_add(req);
    if (!r)
        co_return error_of(r, "tracepoint_add");
    co_return probe_id{*r};
}

task<outcome<uint32_t>>
channel_backend::start_trace(uint32_t buffer_size,
                             std::vector<std::pair<uint32_t, uint64_t>> variables) {
    auto r = co_await impl_->client->trace_start(buffer_size, std::move(variables));
    if (!r)
        co_return error_of(r, "trace_start");
    co_return *r;
}

task<outcome<void>> channel_backend::stop_trace() {
    auto r = co_await impl_->client->trace_stop();
    if (!r)
        co_return error_of(r, "trace_stop");
    co_return outcome<void>{};
}

task<outcome<trace_status>> channel_backend::read_trace_status() {
    auto r = co_await impl_->client->trace_status();
    if (!r)
        co_return error_of(r, "trace_status");
    co_return std::move(*r);
}

task<outcome<trace_frame>> channel_backend::read_trace_frame(uint32_t number) {
    auto r = co_await impl_->client->trace_frame_read(number);
    if (!r)
        co_return error_of(r, "trace_frame_read");
    co_return std::move(*r);
}

} // namespace ruprobes::target
