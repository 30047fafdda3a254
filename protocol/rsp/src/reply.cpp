// The typed replies of reply.hpp: how each payload is spelled.
#include "ruprobes/rsp/reply.hpp"

#include "ruprobes/rsp/request.hpp"

#include <cstdio>

namespace ruprobes::rsp::replies {
namespace {

std::string hex2(unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02x", value & 0xff);
    return buf;
}

std::string hex(uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(value));
    return buf;
}

} // namespace

std::string ok() {
    return "OK";
}

std::string unsupported() {
    return "";
}

std::string error(unsigned code) {
    return "E" + hex2(code);
}

std::string error_text(std::string_view text) {
    return "E." + std::string(text);
}

std::string stop_reply(const stop& s) {
    std::string out = "T" + hex2(s.signal) + "thread:" + format_thread(s.pid, s.tid) + ";";
    for (const auto& r : s.registers)
        out += hex(r.regno) + ":" + le_hex(r.value) + ";";
    if (s.software_breakpoint)
        out += "swbreak:;";
    return out;
}

std::string exit_code(int code, int64_t pid) {
    std::string out = "W" + hex2(static_cast<unsigned>(code));
    if (pid >= 0)
        out += ";process:" + hex(static_cast<uint64_t>(pid));
    return out;
}

std::string exit_signal(unsigned signal, int64_t pid) {
    return "X" + hex2(signal) + ";process:" + hex(static_cast<uint64_t>(pid));
}

std::string registers(std::span<const uint64_t> values) {
    std::string out;
    out.reserve(values.size() * 16);
    for (uint64_t v : values)
        out += le_hex(v);
    return out;
}

std::string register_value(uint64_t value, unsigned size) {
    return le_hex(value, size);
}

std::string memory(std::span<const uint8_t> bytes) {
    return to_hex(bytes.data(), bytes.size());
}

std::string thread_list(std::span<const std::pair<int64_t, int64_t>> threads, size_t max_size,
                        size_t& used) {
    used = 0;
    if (threads.empty())
        return "l";
    std::string out = "m";
    while (used < threads.size()) {
        if (out.size() > 1)
            out += ",";
        out += format_thread(threads[used].first, threads[used].second);
        used++;
        if (out.size() > max_size)
            break;
    }
    return out;
}

std::string current_thread(int64_t pid, int64_t tid) {
    return "QC" + format_thread(pid, tid);
}

std::string attached(bool attached_to_existing) {
    return attached_to_existing ? "1" : "0";
}

std::string console_output(std::string_view text) {
    return "O" + string_to_hex(text);
}

std::string xfer_chunk(std::string_view doc, uint64_t offset, uint64_t length) {
    if (offset >= doc.size())
        return "l";
    std::string_view chunk = doc.substr(offset, length);
    bool last = offset + chunk.size() >= doc.size();
    return (last ? "l" : "m") + std::string(chunk);
}

} // namespace ruprobes::rsp::replies
