// Typed params reading with -32602 errors that name the parameter.
#include "ruprobes/jsonrpc/params.hpp"

#include <cstdio>

namespace ruprobes::jsonrpc {

std::optional<uint64_t> parse_u64(const json& value) {
    if (value.is_number_unsigned())
        return value.get<uint64_t>();
    if (value.is_number_integer()) {
        int64_t v = value.get<int64_t>();
        if (v < 0)
            return std::nullopt;
        return static_cast<uint64_t>(v);
    }
    if (!value.is_string())
        return std::nullopt;
    const std::string& s = value.get_ref<const std::string&>();
    std::size_t i = 0;
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i >= s.size())
        return std::nullopt;
    uint64_t v = 0;
    for (; i < s.size(); i++) {
        char c = s[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = static_cast<unsigned>(c - 'A' + 10);
        else
            return std::nullopt;
        if (v > (UINT64_MAX - digit) / base)
            return std::nullopt; // overflow
        v = v * base + digit;
    }
    return v;
}

std::string hex_u64(uint64_t value) {
    char buf[2 + 16 + 1];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

param_reader::param_reader(const json& params) : params_(params) {
    if (!params.is_null() && !params.is_object()) {
        failed_ = true;
        error_ = {invalid_params, "Invalid params",
                  json{{"reason", "params must be an object (by name)"}}};
    }
}

void param_reader::fail(const char* name, const std::string& expected) {
    if (failed_)
        return;
    failed_ = true;
    error_ = {invalid_params, "Invalid params",
              json{{"param", name},
                   {"expected", expected},
                   {"reason", std::string("\"") + name + "\" must be " + expected}}};
}

const json* param_reader::member(const char* name, bool is_required) {
    if (failed_)
        return nullptr;
    if (params_.is_object()) {
        auto it = params_.find(name);
        if (it != params_.end() && !it->is_null())
            return &*it;
    }
    if (is_required) {
        failed_ = true;
        error_ = {invalid_params, "Invalid params",
                  json{{"param", name}, {"reason", std::string("\"") + name + "\" is required"}}};
    }
    return nullptr;
}

std::optional<std::string> param_reader::string(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return std::nullopt;
    if (!v->is_string()) {
        fail(name, "a string");
        return std::nullopt;
    }
    return v->get<std::string>();
}

std::optional<uint64_t> param_reader::u64(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return std::nullopt;
    auto parsed = parse_u64(*v);
    if (!parsed)
        fail(name, "a non-negative integer (number or \"0x...\" string)");
    return parsed;
}

std::optional<int64_t> param_reader::i64(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return std::nullopt;
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        fail(name, "an integer in the int64 range");
        return std::nullopt;
    }
    if (v->is_number_integer())
        return v->get<int64_t>();
    fail(name, "an integer");
    return std::nullopt;
}

std::optional<bool> param_reader::boolean(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return std::nullopt;
    if (!v->is_boolean()) {
        fail(name, "a boolean");
        return std::nullopt;
    }
    return v->get<bool>();
}

const json* param_reader::array(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return nullptr;
    if (!v->is_array()) {
        fail(name, "an array");
        return nullptr;
    }
    return v;
}

const json* param_reader::object(const char* name, bool is_required) {
    const json* v = member(name, is_required);
    if (!v)
        return nullptr;
    if (!v->is_object()) {
        fail(name, "an object");
        return nullptr;
    }
    return v;
}

} // namespace ruprobes::jsonrpc
