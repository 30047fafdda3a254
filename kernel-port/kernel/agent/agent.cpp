// The agent thread: bytes from the console → frame decoder → request handlers → responses; and
// the kernel's events → frames → console. protocol/README.md is the contract.
#include "agent/agent.hpp"

#include "agent/session.hpp"
#include "arch/riscv64/plic.hpp"
#include "arch/riscv64/timer.hpp"
#include "drivers/virtio_console.hpp"
#include "lib/console.hpp"
#include "proc/process.hpp"
#include "proc/scheduler.hpp"
#include "ruprobes/wire/codec.hpp"

namespace wire = ruprobes::wire;

namespace {

constexpr uint64_t poll_interval_ns = 10'000'000; // drain hits / check the lease every 10 ms
constexpr uint32_t hit_window = 512;
constexpr uint32_t kernel_capabilities = wire::capability::lease;

constinit bool running = false;
constinit uint64_t boot_id = 0;
constinit agent_session session;

uint8_t decoder_storage[wire::max_frame];
constinit wire::frame_decoder decoder(decoder_storage);
uint8_t tx_frame[wire::max_frame];
uint8_t rx_chunk[512];
char wake_channel; // the address the agent thread sleeps on

void on_receive() {
    wakeup(&wake_channel);
}

// Sends one encoded frame. Responses (`must`) wait for a transmit buffer: the agent thread may
// wait, probe hits never do. Events give up and are counted by the caller.
bool send(size_t len, bool must) {
    if (len == 0) {
        return false;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (virtio_console::write(tx_frame, len)) {
            return true;
        }
        virtio_console::flush();
        virtio_console::poll();
        if (!must) {
            return virtio_console::write(tx_frame, len);
        }
        yield();
    }
    return false;
}

void reply_status(const wire::frame& f, int32_t code) {
    send(wire::encode_status(tx_frame, f.type, f.request_id, code), true);
}

template <typename M>
void reply(const wire::frame& f, const M& m) {
    send(wire::encode(tx_frame, f.request_id, m), true);
}

void handle_hello(const wire::frame& f) {
    auto req = wire::decode<wire::hello_request>(f);
    if (!req.ok()) {
        reply_status(f, wire::status::malformed);
        return;
    }
    if (req->min_version > wire::protocol_version || req->max_version < wire::protocol_version) {
        reply_status(f, wire::status::version_mismatch);
        return;
    }
    session.active = true;
    session.ever = true;
    session.session_id = req->session_id;
    session.capabilities = req->capabilities & kernel_capabilities;
    session.lease_ms = req->lease_ms;
    session.last_frame_ns = agent_time_ns();
    reply(f, wire::hello_response{.status = 0,
                                  .version = wire::protocol_version,
                                  .capabilities = session.capabilities,
                                  .boot_id = boot_id,
                                  .time_ns = agent_time_ns(),
                                  .next_hit_seq = 1,
                                  .hits_dropped = 0,
                                  .hit_window = hit_window,
                                  .max_frame = wire::max_frame,
                                  .stopped_threads = 0});
}

void handle_ping(const wire::frame& f) {
    auto req = wire::decode<wire::ping_request>(f);
    if (!req.ok()) {
        reply_status(f, wire::status::malformed);
        return;
    }
    reply(f, wire::ping_response{.status = 0, .cookie = req->cookie, .time_ns = agent_time_ns()});
}

void handle_frame(const wire::frame& f) {
    if (wire::is_response(f.type) || wire::is_event(f.type)) {
        return; // not ours to receive; the decoder already validated it
    }
    session.last_frame_ns = agent_time_ns();
    auto type = static_cast<wire::msg_type>(f.type);
    if (type == wire::msg_type::hello) {
        handle_hello(f);
        return;
    }
    if (type == wire::msg_type::ping) {
        handle_ping(f);
        return;
    }
    if (type == wire::msg_type::hits_ack) {
        if (auto ack = wire::decode<wire::hits_ack_notice>(f); ack.ok() && session.active) {
            if (ack->next_seq > session.acked_seq) {
                session.acked_seq = ack->next_seq;
            }
        }
        return;
    }
    if (!session.active) {
        reply_status(f, wire::status::no_session);
        return;
    }
    reply_status(f, wire::status::unsupported_request);
}

void receive_all() {
    while (true) {
        size_t n = virtio_console::read(rx_chunk, sizeof rx_chunk);
        if (n == 0) {
            return;
        }
        std::span<const uint8_t> in(rx_chunk, n);
        while (!in.empty()) {
            size_t taken = decoder.feed(in);
            in = in.subspan(taken);
            while (auto f = decoder.next()) {
                handle_frame(*f);
            }
            if (taken == 0 && decoder.buffered() == 0) {
                break; // cannot happen with a max_frame buffer; never spin on it
            }
        }
    }
}

void check_lease() {
    if (!session.active || session.lease_ms == 0) {
        return;
    }
    if (agent_time_ns() - session.last_frame_ns > uint64_t(session.lease_ms) * 1'000'000) {
        session.active = false;
        kprintf("agent: host lease expired\n");
    }
}

void agent_main(void*) {
    kprintf("agent: serving the host on the virtio console\n");
    send(wire::encode(tx_frame, 0,
                      wire::kernel_ready_event{.version = wire::protocol_version,
                                               .capabilities = kernel_capabilities,
                                               .boot_id = boot_id,
                                               .time_ns = agent_time_ns()}),
         false);
    virtio_console::flush();
    while (true) {
        virtio_console::poll();
        receive_all();
        check_lease();
        virtio_console::flush();
        sleep_on(&wake_channel, timer_now() + timer_ns_to_ticks(poll_interval_ns));
    }
}

} // namespace

uint64_t agent_time_ns() {
    return timer_ticks_to_ns(timer_now());
}

uint64_t agent_boot_id() {
    // splitmix64 of the timer: QEMU's `time` runs on the host clock, so its value this far into
    // boot differs from one boot to the next.
    uint64_t z = timer_now() + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z == 0 ? 1 : z;
}

bool agent_start() {
    if (!virtio_console::init()) {
        kprintf("agent: no virtio console, running without a host channel\n");
        return false;
    }
    boot_id = agent_boot_id();
    virtio_console::set_receive_callback(on_receive);
    if (!irq_register(virtio_console::irq(), virtio_console::interrupt, nullptr)) {
        kprintf("agent: cannot register irq %u; polling only\n", virtio_console::irq());
    }
    if (spawn_kernel_thread("agent", agent_main, nullptr) == nullptr) {
        kprintf("agent: cannot start the agent thread\n");
        return false;
    }
    running = true;
    return true;
}

bool agent_running() {
    return running;
}

// main.cpp's device bring-up hook: the virtio console and its agent.
extern "C" void devices_init() {
    agent_start();
}
