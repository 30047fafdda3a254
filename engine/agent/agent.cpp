// The agent: bytes from the transport → frame decoder → request handlers → responses; the
// kernel's events and the hit ring → frames → transport. protocol/README.md is the contract,
// ruprobes/agent.h the kernel's side. Here: the agent's state, its round loop and the C calls
// that start and serve it; the parts of a round are in host_session.cpp (what the host sends),
// shipping.cpp (what goes to the host) and producers.cpp (what the engine and the kernel hand in).
#include "agent/agent_internal.hpp"
#include "agent/transport.hpp"

#include "ruprobes/agent.h"

namespace agent {

alignas(8) uint8_t tx_frame[wire::max_frame];

constinit agent_session session;
constinit hit_rings hits;
constinit event_queue events;
namespace {
uint8_t decoder_storage[wire::max_frame];
} // namespace
constinit wire::frame_decoder decoder(decoder_storage);
constinit uint64_t boot_id = 0;
constinit uint64_t reported_hits_dropped = 0;

namespace {

constexpr uint64_t poll_interval_ns = 10'000'000; // drain hits / check the lease every 10 ms

constinit bool running = false;
constinit bool ready_sent = false; // kernel_ready went out (the first round)

// One round: what the host sent, the lease, what goes to the host. Returns how long the agent
// may wait before the next round (0: more to send right away).
uint64_t serve_round() {
    if (!ready_sent) {
        ready_sent = true;
        send_ready();
    }
    transport::poll();
    receive_all();
    check_lease();
    if (session.active) {
        check_resend();
    }
    if (session.active) {
        send_in_order();
    } else {
        discard_events();
    }
    transport::flush();
    if (session.active && hits_sendable()) {
        return 0;
    }
    return poll_interval_ns;
}

} // namespace

bool send_frame(size_t len, bool must) {
    if (len == 0) {
        return false;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (transport::write(tx_frame, len)) {
            return true;
        }
        transport::flush();
        transport::poll();
        if (!must) {
            return transport::write(tx_frame, len);
        }
        os_agent_wait(0);
    }
    return false;
}

void log(const char* text) {
    log(log_line().text(text));
}

void log(const log_line& line) {
    log_line full;
    full.text("agent: ").text(line.c_str());
    os_agent_log(full.c_str());
}

void sleep_for(uint64_t ns) {
    const uint64_t begin = agent_time_ns();
    for (uint64_t now = begin; now - begin < ns; now = agent_time_ns()) {
        os_agent_wait(ns - (now - begin));
    }
}

} // namespace agent

uint64_t agent_time_ns() {
    return os_agent_time_ns();
}

uint64_t agent_boot_id() {
    // splitmix64 of the kernel's clock and the host's wall clock: the kernel's clock alone is the
    // same on every boot under `-icount`, where it counts instructions.
    uint64_t z = (os_agent_time_ns() ^ os_agent_wall_clock_ns()) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z == 0 ? 1 : z;
}

// ---- the C ABI (ruprobes/agent.h) -------------------------------------------------------------

extern "C" int ruprobes_agent_init(const ruprobes_agent_config* config) {
    using namespace agent;
    if (config == nullptr || !transport::init(*config)) {
        return -1;
    }
    boot_id = config->boot_id != 0 ? config->boot_id : agent_boot_id();
    install_sinks(config->harts);
    running = true;
    return 0;
}

extern "C" void ruprobes_agent_run(void) {
    while (true) {
        os_agent_wait(ruprobes_agent_poll());
    }
}

extern "C" uint64_t ruprobes_agent_poll(void) {
    if (!agent::running) {
        return agent::poll_interval_ns;
    }
    return agent::serve_round();
}

extern "C" void ruprobes_agent_virtio_interrupt(void) {
    agent::transport::interrupt();
}

extern "C" void ruprobes_agent_get_stats(ruprobes_agent_stats* out) {
    using namespace agent;
    agent_lock lock;
    *out = ruprobes_agent_stats{};
    out->host_connected = session.active ? 1 : 0;
    out->hits_unsent = hits.unsent();
    out->hits_dropped = hits.dropped();
    out->events_dropped = events.dropped();
    out->frames_rejected = decoder.stats().rejected_total();
}
