#include "target_model/target_types.hpp"
#include "target_model/outcome.hpp"

namespace ruprobes::target {

const char* errc_name(target_errc code) {
    switch (code) {
    case target_errc::not_connected:
        return "not_connected";
    case target_errc::no_such_process:
        return "no_such_process";
    case target_errc::no_such_thread:
        return "no_such_thread";
    case target_errc::not_stopped:
        return "not_stopped";
    case target_errc::bad_address:
        return "bad_address";
    case target_errc::no_such_probe:
        return "no_such_probe";
    case target_errc::already_exists:
        return "already_exists";
    case target_errc::unprobeable:
        return "unprobeable";
    case target_errc::invalid_argument:
        return "invalid_argument";
    case target_errc::busy:
        return "busy";
    case target_errc::timeout:
        return "timeout";
    case target_errc::unsupported:
        return "unsupported";
    case target_errc::backend_failure:
        return "backend_failure";
    }
    return "unknown";
}

const char* process_state_name(process_state state) {
    switch (state) {
    case process_state::running:
        return "running";
    case process_state::stopped:
        return "stopped";
    case process_state::exited:
        return "exited";
    }
    return "unknown";
}

const char* probe_kind_name(probe_kind kind) {
    switch (kind) {
    case probe_kind::insn:
        return "insn";
    case probe_kind::entry:
        return "entry";
    case probe_kind::ret:
        return "return";
    }
    return "unknown";
}

std::optional<probe_kind> parse_probe_kind(const std::string& name) {
    if (name == "insn")
        return probe_kind::insn;
    if (name == "entry")
        return probe_kind::entry;
    if (name == "return")
        return probe_kind::ret;
    return std::nullopt;
}

std::optional<aggregation_field> parse_aggregation_field(const std::string& name) {
    using source = aggregation_field::source;
    if (name == "pid")
        return aggregation_field{source::pid};
    if (name == "tid")
        return aggregation_field{source::tid};
    if (name == "ret" || name == "retval")
        return aggregation_field{source::ret};
    for (std::string prefix : {"a", "arg"}) {
        if (name.size() == prefix.size() + 1 && name.compare(0, prefix.size(), prefix) == 0 &&
            name.back() >= '0' && name.back() <= '7')
            return aggregation_field{source::arg, unsigned(name.back() - '0')};
    }
    return std::nullopt;
}

std::string aggregation_field_name(const aggregation_field& field) {
    switch (field.from) {
    case aggregation_field::source::none:
        return "";
    case aggregation_field::source::pid:
        return "pid";
    case aggregation_field::source::tid:
        return "tid";
    case aggregation_field::source::arg:
        return "a" + std::to_string(field.arg);
    case aggregation_field::source::ret:
        return "ret";
    }
    return "";
}

const char* stop_reason_name(stop_reason reason) {
    switch (reason) {
    case stop_reason::breakpoint:
        return "breakpoint";
    case stop_reason::step:
        return "step";
    case stop_reason::interrupt:
        return "interrupt";
    case stop_reason::signal:
        return "signal";
    case stop_reason::spawned:
        return "spawned";
    }
    return "unknown";
}

std::vector<uint8_t> encode_condition_list(const std::vector<std::vector<uint8_t>>& exprs) {
    std::vector<uint8_t> list;
    for (const auto& e : exprs) {
        size_t len = e.size() > 0xffff ? 0xffff : e.size(); // longer: refused by the kernel
        list.push_back(static_cast<uint8_t>(len & 0xff));
        list.push_back(static_cast<uint8_t>(len >> 8));
        list.insert(list.end(), e.begin(), e.begin() + static_cast<std::ptrdiff_t>(len));
    }
    return list;
}

} // namespace ruprobes::target
