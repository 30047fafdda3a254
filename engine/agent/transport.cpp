// The transport the kernel chose: the bundled virtio console, or its os_agent_channel_* hooks.
#include "agent/transport.hpp"

#include "agent/agent_string.hpp"
#include "agent/virtio_console.hpp"

#include "ruprobes/agent.h"

namespace agent::transport {
namespace {

constinit uint32_t kind = 0;      // enum ruprobes_agent_transport; 0 before init
alignas(8) uint8_t staging[4096]; // reserve()'s frame for a byte channel

bool virtio() {
    return kind == RUPROBES_AGENT_TRANSPORT_VIRTIO_CONSOLE;
}

} // namespace

bool init(const ruprobes_agent_config& config) {
    switch (config.transport) {
    case RUPROBES_AGENT_TRANSPORT_VIRTIO_CONSOLE:
        if (!virtio_console::init(config.virtio_mmio_base, config.virtio_dma_offset)) {
            return false;
        }
        break;
    case RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL:
        break;
    default:
        return false;
    }
    kind = config.transport;
    return true;
}

size_t read(uint8_t* out, size_t max) {
    if (virtio()) {
        return virtio_console::read(out, max);
    }
    if (kind == RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL) {
        size_t n = os_agent_channel_read(out, max);
        return n <= max ? n : max;
    }
    return 0;
}

bool write(const uint8_t* data, size_t len) {
    if (virtio()) {
        return virtio_console::write(data, len);
    }
    if (kind == RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL) {
        return os_agent_channel_write(data, len) != 0;
    }
    return false;
}

uint8_t* reserve(size_t len) {
    if (virtio()) {
        return virtio_console::reserve(len);
    }
    if (kind == RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL && len <= sizeof staging) {
        return staging;
    }
    return nullptr;
}

bool commit(size_t len) {
    if (virtio()) {
        virtio_console::commit(len);
        return true;
    }
    return kind == RUPROBES_AGENT_TRANSPORT_BYTE_CHANNEL &&
           os_agent_channel_write(staging, len) != 0;
}

bool write_gather(const uint8_t* head, size_t head_len, const void* body, size_t body_len,
                  const uint8_t* tail, size_t tail_len) {
    return virtio() && virtio_console::write_gather(head, head_len, body, body_len, tail, tail_len);
}

bool is_virtio() {
    return virtio();
}

void flush() {
    if (virtio()) {
        virtio_console::flush();
    }
}

void poll() {
    if (virtio()) {
        virtio_console::poll();
    }
}

void interrupt() {
    if (virtio()) {
        virtio_console::interrupt();
    }
}

const char* name() {
    return virtio() ? "virtio console" : "byte channel";
}

void describe(log_line& line) {
    if (!virtio()) {
        line.text("byte channel");
        return;
    }
    virtio_console::statistics cs = virtio_console::stats();
    line.text("console: ").dec(cs.interrupts).text(" interrupts, ").dec(cs.rx_bytes);
    line.text(" bytes in, ").dec(cs.tx_bytes).text(" out");
}

} // namespace agent::transport
