// The tracepoint requests of the host client (channel_client.hpp; protocol/README.md §3,
// tracepoint_add ... trace_frame_read).
#include "channel/channel_impl.hpp"

namespace ruprobes::channel {

awaitable<call_result<uint32_t>> client::tracepoint_add(wire::tracepoint_add_request request) {
    co_return co_await impl_->call_decoded<wire::tracepoint_add_response>(
        request, [](const wire::tracepoint_add_response& r) { return r.probe_id; });
}

awaitable<call_result<uint32_t>>
client::trace_start(uint32_t buffer_size, std::vector<std::pair<uint32_t, uint64_t>> variables) {
    std::vector<uint8_t> entries(variables.size() * wire::trace_variable_entry_size);
    for (size_t i = 0; i < variables.size(); i++) {
        uint8_t* e = entries.data() + i * wire::trace_variable_entry_size;
        for (int b = 0; b < 4; b++)
            e[b] = static_cast<uint8_t>(variables[i].first >> (8 * b));
        for (int b = 0; b < 8; b++)
            e[8 + b] = static_cast<uint8_t>(variables[i].second >> (8 * b));
    }
    wire::trace_start_request req{.buffer_size = buffer_size,
                                  .variables = wire::bytes(entries.data(), entries.size())};
    co_return co_await impl_->call_decoded<wire::trace_start_response>(
        req, [](const wire::trace_start_response& r) { return r.buffer_size; });
}

awaitable<call_result<void>> client::trace_stop() {
    return impl_->call_void(wire::trace_stop_request{});
}

awaitable<call_result<trace_status_info>> client::trace_status() {
    auto r = co_await impl_->call_decoded<wire::trace_status_response>(
        wire::trace_status_request{}, [](const wire::trace_status_response& m) {
            trace_status_info s{m.running != 0,
                                wire::trace_stop_reason(m.stop_reason),
                                m.stopping_tracepoint,
                                m.error_code,
                                m.frames,
                                m.created,
                                m.buffer_size,
                                m.buffer_free,
                                {}};
            for (size_t at = 0; at + wire::trace_variable_entry_size <= m.variables.size();
                 at += wire::trace_variable_entry_size) {
                uint32_t n = 0;
                uint64_t v = 0;
                for (int b = 3; b >= 0; b--)
                    n = (n << 8) | m.variables[at + b];
                for (int b = 7; b >= 0; b--)
                    v = (v << 8) | m.variables[at + 8 + b];
                s.variables.emplace_back(n, v);
            }
            return s;
        });
    co_return r;
}

awaitable<call_result<trace_frame_info>> client::trace_frame_read(uint32_t number) {
    co_return co_await impl_->call_decoded<wire::trace_frame_read_response>(
        wire::trace_frame_read_request{.number = number},
        [](const wire::trace_frame_read_response& m) {
            return trace_frame_info{m.number, m.tracepoint,
                                    std::vector<uint8_t>(m.data.begin(), m.data.end())};
        });
}

} // namespace ruprobes::channel
