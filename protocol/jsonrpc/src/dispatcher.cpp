// Dispatch of requests, notifications and batches (JSON-RPC 2.0 §4, §6).
#include "ruprobes/jsonrpc/dispatcher.hpp"

#include <exception>

namespace ruprobes::jsonrpc {

namespace {

// Collects the answers of one message; sends when the last one is in.
struct reply_collector {
    bool batch = false;
    std::size_t pending = 0;
    std::vector<json> responses;
    std::function<void(std::string)> send;

    void done() {
        if (--pending > 0)
            return;
        if (responses.empty()) {
            send(std::string()); // only notifications: nothing is owed (§6)
            return;
        }
        if (batch)
            send(to_text(json(std::move(responses))));
        else
            send(to_text(responses.front()));
    }
};

} // namespace

void method_table::add(std::string name, async_method method) {
    methods_[std::move(name)] = std::move(method);
}

void method_table::add_sync(std::string name, sync_method method) {
    methods_[std::move(name)] = [method = std::move(method)](call& c) {
        c.respond(method(c.req.params, c.context.get()));
    };
}

const async_method* method_table::find(const std::string& name) const {
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
}

void dispatcher::dispatch(std::string_view text, std::shared_ptr<call_context> context,
                          std::function<void(std::string)> send) const {
    incoming in = parse_incoming(text);
    if (in.parse_failed) {
        send(to_text(make_error_response(nullptr, in.parse_err)));
        return;
    }
    auto collector = std::make_shared<reply_collector>();
    collector->batch = in.batch;
    collector->send = std::move(send);
    // +1 holds the collector open until every item has been started, so a batch whose handlers
    // answer synchronously still sends one array at the end.
    collector->pending = in.items.size() + 1;

    for (incoming_item& item : in.items) {
        if (!item.valid) {
            collector->responses.push_back(make_error_response(item.err_id, item.err));
            collector->done();
            continue;
        }
        auto req = std::make_shared<request>(std::move(item.req));
        const async_method* method = methods_.find(req->method);
        if (!method) {
            if (!req->is_notification) {
                rpc_error err{method_not_found, "Method not found", json{{"method", req->method}}};
                collector->responses.push_back(make_error_response(req->id, err));
            }
            collector->done();
            continue;
        }
        // The responder owns the request (the handler may answer after dispatch returned) and
        // ignores a second answer.
        auto start = [collector, req, context, method]() {
            auto answered = std::make_shared<bool>(false);
            call c{*req, context, nullptr};
            c.respond = [collector, req, answered, context](method_result result) {
                if (*answered)
                    return;
                *answered = true;
                if (!req->is_notification) {
                    if (result)
                        collector->responses.push_back(make_response(req->id, std::move(*result)));
                    else
                        collector->responses.push_back(
                            make_error_response(req->id, result.error()));
                }
                collector->done();
                if (context)
                    context->call_finished();
            };
            try {
                (*method)(c);
            } catch (const json::exception& e) {
                c.respond(
                    fail(rpc_error{invalid_params, "Invalid params", json{{"reason", e.what()}}}));
            } catch (const std::exception& e) {
                c.respond(
                    fail(rpc_error{internal_error, "Internal error", json{{"reason", e.what()}}}));
            }
        };
        if (context)
            context->schedule(std::move(start));
        else
            start();
    }
    collector->done();
}

std::string dispatcher::oversized_response(std::size_t size, std::size_t limit) {
    rpc_error err{
        invalid_request, "Invalid Request",
        json{{"reason", "message larger than the limit"}, {"size", size}, {"limit", limit}}};
    return to_text(make_error_response(nullptr, err));
}

} // namespace ruprobes::jsonrpc
