// JSON-RPC 2.0 message parsing and building (specification §4, §5, §6).
#include "ruprobes/jsonrpc/message.hpp"

namespace ruprobes::jsonrpc {

namespace {

incoming_item invalid(json id, std::string what) {
    incoming_item item;
    item.valid = false;
    item.err_id = std::move(id);
    item.err.code = invalid_request;
    item.err.message = "Invalid Request";
    item.err.data = json{{"reason", std::move(what)}};
    return item;
}

} // namespace

incoming_item validate_request(const json& value) {
    if (!value.is_object())
        return invalid(nullptr, "a request must be a JSON object");
    // §4: id is a String, Number or Null; anything else cannot be echoed back.
    json id = nullptr;
    bool has_id = false;
    if (auto it = value.find("id"); it != value.end()) {
        if (!(it->is_string() || it->is_number() || it->is_null()))
            return invalid(nullptr, "\"id\" must be a string, a number or null");
        id = *it;
        has_id = true;
    }
    auto version = value.find("jsonrpc");
    if (version == value.end() || !version->is_string() || *version != "2.0")
        return invalid(id, "\"jsonrpc\" must be exactly \"2.0\"");
    auto method = value.find("method");
    if (method == value.end() || !method->is_string())
        return invalid(id, "\"method\" must be a string");
    json params = nullptr;
    if (auto it = value.find("params"); it != value.end()) {
        if (!it->is_object() && !it->is_array())
            return invalid(id, "\"params\" must be an object or an array");
        params = *it;
    }
    incoming_item item;
    item.valid = true;
    item.req.method = method->get<std::string>();
    item.req.params = std::move(params);
    item.req.id = std::move(id);
    item.req.is_notification = !has_id;
    return item;
}

std::size_t nesting_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    break;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

incoming parse_incoming(std::string_view text) {
    incoming in;
    if (std::size_t depth = nesting_depth(text, max_nesting_depth); depth > max_nesting_depth) {
        incoming_item item = invalid(nullptr, "nesting deeper than the limit");
        item.err.data["limit"] = max_nesting_depth;
        in.items.push_back(std::move(item));
        return in;
    }
    json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        in.parse_failed = true;
        in.parse_err.code = parse_error;
        in.parse_err.message = "Parse error";
        in.parse_err.data = json{{"reason", "the message is not valid JSON"}};
        return in;
    }
    if (value.is_array()) {
        if (value.empty()) {
            in.items.push_back(invalid(nullptr, "an empty batch"));
            return in;
        }
        if (value.size() > max_batch_size) {
            incoming_item item = invalid(nullptr, "batch larger than the limit");
            item.err.data["size"] = value.size();
            item.err.data["limit"] = max_batch_size;
            in.items.push_back(std::move(item));
            return in;
        }
        in.batch = true;
        in.items.reserve(value.size());
        for (const json& element : value)
            in.items.push_back(validate_request(element));
        return in;
    }
    in.items.push_back(validate_request(value));
    return in;
}

json make_response(const json& id, json result) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json make_error_response(const json& id, const rpc_error& err) {
    json error = {{"code", err.code}, {"message", err.message}};
    if (!err.data.is_null())
        error["data"] = err.data;
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

json make_notification(std::string_view method, json params) {
    return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

std::string to_text(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace ruprobes::jsonrpc
