// The target model's trace side: probes that record or aggregate without stopping anything
// (JSON-RPC), and gdb tracepoints, whose trace buffer lives in the kernel. The rest of the model
// (processes, threads, stops, breakpoints) is in target_model.cpp.
#include "target_model/target_model.hpp"

namespace ruprobes::target {

task<outcome<probe_info>> target_model::add_trace_probe(probe_spec spec) {
    spec.mode = spec.aggregation ? probe_mode::aggregate : probe_mode::trace;
    if (spec.program.empty())
        co_return fail(target_errc::invalid_argument, "probe needs a program");
    auto kernel_id = co_await backend_.add_probe(spec);
    if (!kernel_id)
        co_return tl::unexpected(kernel_id.error());
    probe_id id = map_kernel_id(*kernel_id);
    probe_info info{id, std::move(spec), 0};
    probes_[id] = info;
    co_return info;
}

task<outcome<aggregation_table>> target_model::read_aggregation(probe_id id) {
    auto it = probes_.find(id);
    if (it == probes_.end() || it->second.spec.mode != probe_mode::aggregate)
        co_return fail(target_errc::no_such_probe, "no aggregation probe " + std::to_string(id));
    auto kernel_id = kernel_ids_.find(id);
    if (kernel_id == kernel_ids_.end())
        co_return fail(target_errc::not_connected, "the aggregation is not armed right now");
    co_return co_await backend_.read_aggregation(kernel_id->second);
}

task<outcome<void>> target_model::remove_trace_probe(probe_id id) {
    auto it = probes_.find(id);
    if (it == probes_.end() || it->second.spec.mode == probe_mode::stop)
        co_return fail(target_errc::no_such_probe, "no trace probe " + std::to_string(id));
    probes_.erase(it);
    auto kernel_id = unmap(id);
    if (!kernel_id)
        co_return outcome<void>{}; // not armed right now (waiting for the kernel to come back)
    co_return co_await backend_.remove_probe(*kernel_id);
}

task<outcome<probe_id>> target_model::add_tracepoint(pid_type pid, uint64_t addr,
                                                     tracepoint_spec spec) {
    auto info = co_await process(pid);
    if (!info)
        co_return tl::unexpected(info.error());
    if (addr < info->load_bias)
        co_return fail(target_errc::bad_address, "address below the program's load base");
    spec.program = info->program;
    spec.offset = addr - info->load_bias;
    spec.pid = pid;
    co_return co_await backend_.add_tracepoint(std::move(spec));
}

task<outcome<void>> target_model::remove_tracepoint(probe_id kernel_id) {
    co_return co_await backend_.remove_probe(kernel_id);
}

task<outcome<uint32_t>>
target_model::start_trace(uint32_t buffer_size,
                          std::vector<std::pair<uint32_t, uint64_t>> variables) {
    co_return co_await backend_.start_trace(buffer_size, std::move(variables));
}

task<outcome<void>> target_model::stop_trace() {
    co_return co_await backend_.stop_trace();
}

task<outcome<trace_status>> target_model::read_trace_status() {
    co_return co_await backend_.read_trace_status();
}

task<outcome<trace_frame>> target_model::read_trace_frame(uint32_t number) {
    co_return co_await backend_.read_trace_frame(number);
}

std::vector<probe_info> target_model::trace_probes() const {
    std::vector<probe_info> out;
    for (const auto& [id, info] : probes_) {
        if (info.spec.mode != probe_mode::stop)
            out.push_back(info);
    }
    return out;
}

} // namespace ruprobes::target
