// The typed requests of the host client (channel_client.hpp): each encodes its message, waits
// for the answer with the client's deadline and converts it to owning host types.
#include "channel/channel_impl.hpp"

namespace ruprobes::channel {

namespace {

spawned_process spawned_from(const wire::process_spawn_response& r) {
    return spawned_process{r.pid, r.tid};
}

} // namespace

awaitable<call_result<uint32_t>> client::probe_add(std::string path, uint64_t address,
                                                   wire::probe_kind kind, wire::probe_mode mode,
                                                   uint32_t pid, std::vector<uint8_t> condition,
                                                   std::vector<uint8_t> fetch) {
    wire::probe_add_request req{
        .pid = pid,
        .kind = static_cast<uint8_t>(kind),
        .mode = static_cast<uint8_t>(mode),
        .address = address,
        .path = wire::bytes(reinterpret_cast<const uint8_t*>(path.data()), path.size()),
        .condition = wire::bytes(condition.data(), condition.size()),
        .fetch = wire::bytes(fetch.data(), fetch.size()),
    };
    co_return co_await impl_->call_decoded<wire::probe_add_response>(
        req, [](const wire::probe_add_response& r) { return r.probe_id; });
}

awaitable<call_result<uint32_t>> client::aggregation_add(wire::aggregation_add_request request) {
    co_return co_await impl_->call_decoded<wire::aggregation_add_response>(
        request, [](const wire::aggregation_add_response& r) { return r.probe_id; });
}

awaitable<call_result<aggregation_table>> client::aggregation_read(uint32_t probe_id) {
    aggregation_table table;
    bool malformed = false;
    auto rows = co_await impl_->list<wire::aggregation_entry, wire::aggregation_read_response>(
        [probe_id](uint32_t start) {
            return wire::aggregation_read_request{.probe_id = probe_id, .start = start};
        },
        [&table](const wire::aggregation_read_response& head) {
            table.buckets = head.buckets;
            table.hits = head.hits;
            table.dropped = head.dropped;
        },
        [&table, &malformed](const wire::aggregation_entry& e) {
            aggregation_row row{e.key, e.count, e.sum, int64_t(e.min), int64_t(e.max), {}};
            if (e.histogram.size() != 8 * size_t(table.buckets))
                malformed = true;
            for (size_t i = 0; i + 8 <= e.histogram.size(); i += 8) {
                uint64_t v = 0;
                for (size_t b = 0; b < 8; b++)
                    v |= uint64_t(e.histogram[i + b]) << (8 * b);
                row.buckets.push_back(v);
            }
            return row;
        });
    if (!rows)
        co_return tl::unexpected(rows.error());
    if (malformed)
        co_return fail<aggregation_table>(call_errc::malformed);
    table.rows = std::move(*rows);
    co_return success(std::move(table));
}

awaitable<call_result<void>> client::probe_remove(uint32_t probe_id) {
    return impl_->call_void(wire::probe_remove_request{.probe_id = probe_id});
}

awaitable<call_result<std::vector<probe_entry>>> client::probe_list() {
    return impl_->list<wire::probe_entry, wire::probe_list_response>(
        [](uint32_t start) { return wire::probe_list_request{.start = start}; },
        [](const wire::probe_entry& e) {
            return probe_entry{
                e.probe_id, e.pid,  wire::probe_kind(e.kind), wire::probe_mode(e.mode),
                e.address,  e.hits, to_string(e.path)};
        });
}

awaitable<call_result<std::vector<process_entry>>> client::process_list() {
    return impl_->list<wire::process_entry, wire::process_list_response>(
        [](uint32_t start) { return wire::process_list_request{.start = start}; },
        [](const wire::process_entry& e) {
            return process_entry{e.pid,
                                 e.ppid,
                                 wire::process_state(e.state),
                                 e.thread_count,
                                 to_string(e.path),
                                 to_string(e.args)};
        });
}

awaitable<call_result<spawned_process>> client::process_spawn(std::string cmdline,
                                                              bool stop_at_entry) {
    wire::process_spawn_request req{
        .flags = stop_at_entry ? wire::spawn_flag_stop_at_entry : 0u,
        .cmdline = wire::bytes(reinterpret_cast<const uint8_t*>(cmdline.data()), cmdline.size()),
    };
    co_return co_await impl_->call_decoded<wire::process_spawn_response>(req, spawned_from);
}

awaitable<call_result<spawned_process>> client::process_spawn(const std::vector<std::string>& argv,
                                                              bool stop_at_entry) {
    std::string list;
    for (const auto& arg : argv) {
        if (arg.find('\0') != std::string::npos)
            co_return fail<spawned_process>(call_errc::malformed);
        list += arg;
        list += '\0';
    }
    wire::process_spawn_request req{
        .flags = (stop_at_entry ? wire::spawn_flag_stop_at_entry : 0u) | wire::spawn_flag_argv_list,
        .cmdline = wire::bytes(reinterpret_cast<const uint8_t*>(list.data()), list.size()),
    };
    co_return co_await impl_->call_decoded<wire::process_spawn_response>(req, spawned_from);
}

awaitable<call_result<void>> client::process_kill(uint32_t pid) {
    return impl_->call_void(wire::process_kill_request{.pid = pid});
}

awaitable<call_result<std::vector<thread_entry>>> client::thread_list(uint32_t pid) {
    return impl_->list<wire::thread_entry, wire::thread_list_response>(
        [pid](uint32_t start) { return wire::thread_list_request{.pid = pid, .start = start}; },
        [](const wire::thread_entry& e) {
            return thread_entry{e.tid, wire::thread_state(e.state),
                                wire::stop_reason(e.stop_reason), e.pc};
        });
}

awaitable<call_result<void>> client::thread_stop(uint32_t pid, uint32_t tid) {
    return impl_->call_void(wire::thread_stop_request{.pid = pid, .tid = tid});
}

awaitable<call_result<void>> client::thread_resume(uint32_t pid, uint32_t tid, uint32_t signal) {
    return impl_->call_void(wire::thread_resume_request{.pid = pid, .tid = tid, .signal = signal});
}

awaitable<call_result<void>> client::thread_step(uint32_t pid, uint32_t tid) {
    return impl_->call_void(wire::thread_step_request{.pid = pid, .tid = tid});
}

awaitable<call_result<register_values>> client::regs_get(uint32_t pid, uint32_t tid) {
    return impl_->call_decoded<wire::regs_get_response>(
        wire::regs_get_request{.pid = pid, .tid = tid}, [](const wire::regs_get_response& r) {
            return register_values{r.x, r.pc};
        });
}

awaitable<call_result<void>> client::regs_set(uint32_t pid, uint32_t tid, uint64_t mask,
                                              register_values values) {
    return impl_->call_void(wire::regs_set_request{
        .pid = pid, .tid = tid, .mask = mask, .x = values.x, .pc = values.pc});
}

awaitable<std::pair<call_result<void>, call_result<void>>>
client::regs_set_then_resume(uint32_t pid, uint32_t tid, uint64_t mask, register_values values,
                             uint32_t resume_pid, uint32_t resume_tid, bool step, uint32_t signal) {
    auto self = impl_;
    auto status_of = [](const raw_reply& raw) {
        return raw.errc == call_errc::ok ? call_result<void>{} : fail<void>(raw.errc, raw.status);
    };
    wire::regs_set_request set{
        .pid = pid, .tid = tid, .mask = mask, .x = values.x, .pc = values.pc};
    if (step) {
        auto [a, b] = co_await self->call_pair(
            set, wire::thread_step_request{.pid = resume_pid, .tid = resume_tid});
        co_return std::pair{status_of(a), status_of(b)};
    }
    auto [a, b] = co_await self->call_pair(
        set, wire::thread_resume_request{.pid = resume_pid, .tid = resume_tid, .signal = signal});
    co_return std::pair{status_of(a), status_of(b)};
}

awaitable<call_result<fp_register_values>> client::fp_regs_get(uint32_t pid, uint32_t tid) {
    return impl_->call_decoded<wire::fp_regs_get_response>(
        wire::fp_regs_get_request{.pid = pid, .tid = tid}, [](const wire::fp_regs_get_response& r) {
            return fp_register_values{r.f, r.fcsr};
        });
}

awaitable<call_result<void>> client::fp_regs_set(uint32_t pid, uint32_t tid, uint64_t mask,
                                                 fp_register_values values) {
    return impl_->call_void(wire::fp_regs_set_request{
        .pid = pid, .tid = tid, .mask = mask, .f = values.f, .fcsr = values.fcsr});
}

awaitable<call_result<std::vector<uint8_t>>> client::mem_read(uint32_t pid, uint64_t address,
                                                              uint64_t length) {
    auto self = impl_;
    std::vector<uint8_t> all;
    while (all.size() < length) {
        uint64_t chunk = std::min<uint64_t>(length - all.size(), wire::max_mem_chunk);
        raw_reply raw = co_await self->call(wire::mem_read_request{
            .pid = pid, .length = static_cast<uint32_t>(chunk), .address = address + all.size()});
        auto m = impl::decode_reply<wire::mem_read_response>(raw);
        if (!m) {
            co_return tl::unexpected(m.error());
        }
        if (m->data.size() != chunk) {
            co_return fail<std::vector<uint8_t>>(call_errc::malformed);
        }
        all.insert(all.end(), m->data.begin(), m->data.end());
    }
    co_return success(std::move(all));
}

awaitable<call_result<void>> client::mem_write(uint32_t pid, uint64_t address,
                                               std::vector<uint8_t> bytes) {
    auto self = impl_;
    size_t done = 0;
    while (done < bytes.size()) {
        size_t chunk = std::min<size_t>(bytes.size() - done, wire::max_mem_chunk);
        auto r = co_await self->call_void(wire::mem_write_request{
            .pid = pid,
            .address = address + done,
            .data = wire::bytes(bytes.data() + done, chunk),
        });
        if (!r) {
            co_return r;
        }
        done += chunk;
    }
    co_return call_result<void>{};
}

awaitable<call_result<channel_test_result>> client::channel_test(uint32_t total_bytes,
                                                                 uint32_t payload_size) {
    auto self = impl_;
    raw_reply raw = co_await self->call(
        wire::channel_test_request{.total_bytes = total_bytes, .payload_size = payload_size});
    auto m = impl::decode_reply<wire::channel_test_response>(raw);
    if (!m) {
        co_return tl::unexpected(m.error());
    }
    co_return success(channel_test_result{m->frames, m->bytes, m->elapsed_ns});
}

} // namespace ruprobes::channel
