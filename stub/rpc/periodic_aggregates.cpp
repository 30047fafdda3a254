#include "rpc/periodic_aggregates.hpp"

#include "rpc/aggregations.hpp"
#include "rpc/event_notifications.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace ruprobes::rpc {

namespace {

// One probe's loop. `timer` is the probe's entry in st.aggregate_timers: cancelling it ends the
// loop, which then touches nothing but the timer (the state may be on its way out).
asio::awaitable<void> publish_every(rpc_server::state& st, uint64_t id,
                                    std::shared_ptr<asio::steady_timer> timer,
                                    std::chrono::milliseconds every) {
    for (;;) {
        boost::system::error_code ec;
        timer->expires_after(every);
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || st.stopped)
            co_return;
        auto info = st.model.probe(id);
        if (!info || !info->spec.aggregation)
            co_return; // removed behind our back (a kernel reboot forgets probes)
        if (st.hub.subscriber_count() == 0)
            continue;
        auto table = co_await st.model.read_aggregation(id);
        if (timer.use_count() == 1 || st.stopped)
            co_return; // stopped while the kernel answered
        if (!table) {
            spdlog::debug("rpc: aggregation {}: no table this period: {}", id,
                          table.error().message);
            continue; // the kernel is away: try again next period
        }
        st.hub.publish(
            aggregate_notification(id, aggregation_json(id, *info->spec.aggregation, *table)));
    }
}

} // namespace

void start_periodic_aggregate(rpc_server::state& st, uint64_t id, std::chrono::milliseconds every) {
    stop_periodic_aggregate(st, id);
    auto timer = std::make_shared<asio::steady_timer>(st.executor);
    st.aggregate_timers[id] = timer;
    asio::co_spawn(st.executor, publish_every(st, id, timer, every), asio::detached);
}

void stop_periodic_aggregate(rpc_server::state& st, uint64_t id) {
    auto it = st.aggregate_timers.find(id);
    if (it == st.aggregate_timers.end())
        return;
    it->second->cancel();
    st.aggregate_timers.erase(it);
}

void stop_periodic_aggregates(rpc_server::state& st) {
    for (auto& [id, timer] : st.aggregate_timers)
        timer->cancel();
    st.aggregate_timers.clear();
}

} // namespace ruprobes::rpc
