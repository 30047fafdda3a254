#include "agent/aggregations.hpp"

#include "agent/agent_lock.hpp"
#include "agent/request_util.hpp"

#include "ruprobes/agent.h"
#include "ruprobes/ruprobes.h"

namespace agent {
namespace {

constexpr uint32_t max_aggregations = 8;
constexpr uint32_t max_keys = 256;
constexpr uint32_t index_size = 2 * max_keys; // open addressing, at most half full
constexpr size_t entry_fixed = 48;            // aggregation_entry without its histogram

struct key_stats {
    uint64_t key = 0;
    uint64_t count = 0;
    uint64_t sum = 0;
    int64_t min = 0;
    int64_t max = 0;
    uint64_t buckets[wire::aggregation_buckets] = {};
};

struct aggregation {
    bool used = false;
    uint32_t probe_id = 0;
    wire::aggregation_key key = wire::aggregation_key::none;
    wire::aggregation_value value = wire::aggregation_value::none;
    wire::aggregation_histogram histogram = wire::aggregation_histogram::none;
    uint32_t buckets = 0; // histogram buckets per key
    int64_t linear_min = 0;
    int64_t linear_max = 0;
    uint64_t linear_step = 0;
    uint32_t keys = 0;
    uint64_t hits = 0;
    uint64_t dropped = 0;
    key_stats* last = nullptr;       // the key of the previous hit: a repeated key skips the index
    uint16_t index[index_size] = {}; // 1 + the key's slot in `stats`, in hash order; 0: empty
    key_stats stats[max_keys] = {};  // in the order the keys first appeared (stable pages)
};

// Written by the trap (aggregate) and read by the agent's requests: both under the agent's lock.
constinit aggregation tables[max_aggregations];

uint64_t key_of(const aggregation& a, const uprobes_hit& hit) {
    uint8_t k = static_cast<uint8_t>(a.key);
    if (a.key == wire::aggregation_key::pid)
        return hit.pid;
    if (a.key == wire::aggregation_key::tid)
        return hit.tid;
    if (a.key == wire::aggregation_key::ret)
        return hit.retval;
    if (k >= uint8_t(wire::aggregation_key::arg0) && k < uint8_t(wire::aggregation_key::arg0) + 8)
        return hit.a[k - uint8_t(wire::aggregation_key::arg0)];
    return 0;
}

int64_t value_of(const aggregation& a, const uprobes_hit& hit) {
    uint8_t v = static_cast<uint8_t>(a.value);
    if (a.value == wire::aggregation_value::ret)
        return static_cast<int64_t>(hit.retval);
    if (v >= uint8_t(wire::aggregation_value::arg0) &&
        v < uint8_t(wire::aggregation_value::arg0) + 8)
        return static_cast<int64_t>(hit.a[v - uint8_t(wire::aggregation_value::arg0)]);
    return 0;
}

// The position of the highest set bit of `v` (not 0), in six steps: without Zbb, gcc's
// __builtin_clzll is a libgcc call, which the agent does not link.
uint32_t floor_log2(uint64_t v) {
    uint32_t n = 0;
    for (uint32_t shift = 32; shift != 0; shift >>= 1) {
        if (v >> shift) {
            v >>= shift;
            n += shift;
        }
    }
    return n;
}

// log2: bucket 0 holds v < 0, bucket 1 v == 0, bucket 2 + n holds 2^n <= v < 2^(n+1) (the last
// bucket everything from 2^61 up). linear: bucket 0 holds v < min, bucket 1 + i holds
// min + i*step <= v < min + (i+1)*step, the last bucket v >= max.
uint32_t bucket_of(const aggregation& a, int64_t v) {
    if (a.histogram == wire::aggregation_histogram::log2) {
        if (v < 0)
            return 0;
        if (v == 0)
            return 1;
        uint32_t b = 2 + floor_log2(static_cast<uint64_t>(v));
        return b < wire::aggregation_buckets ? b : wire::aggregation_buckets - 1;
    }
    if (v < a.linear_min)
        return 0;
    if (v >= a.linear_max)
        return a.buckets - 1;
    return 1 + static_cast<uint32_t>(static_cast<uint64_t>(v - a.linear_min) / a.linear_step);
}

// The statistics of `key`, added when new; nullptr when the table is full.
key_stats* find_or_add(aggregation& a, uint64_t key) {
    uint32_t h = static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 55) & (index_size - 1);
    for (;; h = (h + 1) & (index_size - 1)) {
        uint16_t slot = a.index[h];
        if (slot == 0)
            break;
        if (a.stats[slot - 1].key == key)
            return &a.stats[slot - 1];
    }
    if (a.keys == max_keys)
        return nullptr;
    key_stats& s = a.stats[a.keys];
    s.key = key;
    s.count = 0;
    s.sum = 0;
    // Without a value every hit counts 0 (aggregate skips the value), so the minimum and maximum
    // are 0 from the first hit, which follows at once.
    const bool valued = a.value != wire::aggregation_value::none;
    s.min = valued ? INT64_MAX : 0;
    s.max = valued ? INT64_MIN : 0;
    for (uint64_t& b : s.buckets)
        b = 0;
    a.index[h] = static_cast<uint16_t>(++a.keys);
    return &s;
}

aggregation* find_table(uint32_t probe_id) {
    for (aggregation& a : tables)
        if (a.used && a.probe_id == probe_id)
            return &a;
    return nullptr;
}

// Builds the aggregation_read response page into tx_frame; its length, 0 for an unknown probe.
size_t build_page(const wire::frame& f, const wire::aggregation_read_request& req);

bool valid(const wire::aggregation_add_request& r) {
    bool return_probe = r.kind == uint8_t(wire::probe_kind::ret);
    if (r.kind > 2 || r.key > uint8_t(wire::aggregation_key::ret) ||
        r.value > uint8_t(wire::aggregation_value::ret) ||
        r.histogram > uint8_t(wire::aggregation_histogram::linear))
        return false;
    if ((r.key == uint8_t(wire::aggregation_key::ret) ||
         r.value == uint8_t(wire::aggregation_value::ret)) &&
        !return_probe)
        return false; // the return value exists at returns only
    if (r.histogram != 0 && r.value == 0)
        return false; // a histogram of nothing
    if (r.histogram == uint8_t(wire::aggregation_histogram::linear)) {
        auto lo = static_cast<int64_t>(r.linear_min), hi = static_cast<int64_t>(r.linear_max);
        if (r.linear_step == 0 || hi <= lo)
            return false;
        uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
        if ((span + r.linear_step - 1) / r.linear_step + 2 > wire::aggregation_buckets)
            return false;
    }
    return true;
}

} // namespace

void aggregate(const uprobes_hit& hit) {
    const uint64_t table = hit.cookie - 1; // cookie 0 wraps around: not a table
    if (table >= max_aggregations)
        return;
    aggregation& a = tables[table];
    if (!a.used)
        return;
    // Everything the hit needs from the table is read before anything is written.
    const bool counted_only = a.value == wire::aggregation_value::none;
    const uint64_t key = a.key == wire::aggregation_key::none ? 0 : key_of(a, hit);
    key_stats* s = a.last;
    a.hits++;
    if (s == nullptr || s->key != key) {
        s = find_or_add(a, key);
        if (s == nullptr) {
            a.dropped++;
            return;
        }
        a.last = s;
    }
    s->count++;
    if (counted_only)
        return; // a count: the sum stays 0, the minimum and maximum 0 (find_or_add)
    const int64_t v = value_of(a, hit);
    s->sum += static_cast<uint64_t>(v);
    if (v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    if (a.buckets != 0)
        s->buckets[bucket_of(a, v)]++;
}

void aggregation_add(const wire::frame& f) {
    wire::aggregation_add_request req;
    if (!parse(f, req)) {
        return;
    }
    if (!valid(req)) {
        reply_status(f, wire::status::malformed);
        return;
    }
    uint32_t table = 0;
    {
        agent_lock lock;
        while (table < max_aggregations && tables[table].used)
            table++;
        if (table < max_aggregations)
            tables[table].used = true; // reserved; hits find it only once a probe carries it
    }
    if (table == max_aggregations) {
        reply_status(f, wire::status_of(ruprobes::error::no_space));
        return;
    }
    aggregation& a = tables[table];
    a.key = wire::aggregation_key(req.key);
    a.value = wire::aggregation_value(req.value);
    a.histogram = wire::aggregation_histogram(req.histogram);
    a.linear_min = static_cast<int64_t>(req.linear_min);
    a.linear_max = static_cast<int64_t>(req.linear_max);
    a.linear_step = req.linear_step;
    a.buckets = 0;
    if (a.histogram == wire::aggregation_histogram::log2)
        a.buckets = wire::aggregation_buckets;
    if (a.histogram == wire::aggregation_histogram::linear) {
        uint64_t span = static_cast<uint64_t>(a.linear_max) - static_cast<uint64_t>(a.linear_min);
        a.buckets = static_cast<uint32_t>((span + a.linear_step - 1) / a.linear_step + 2);
    }
    a.keys = 0;
    a.hits = 0;
    a.dropped = 0;
    a.last = nullptr;
    for (uint16_t& i : a.index)
        i = 0;
    // The table is ready before the probe is armed: its first hit finds it. (No hit can reach it
    // before: no probe carries its cookie.)
    a.probe_id = 0;
    uint32_t id = add_probe(f, probe_params{.pid = req.pid,
                                            .kind = req.kind,
                                            .mode = uint8_t(wire::probe_mode::aggregate),
                                            .address = req.address,
                                            .path = req.path,
                                            .condition = req.condition,
                                            .cookie = table + 1});
    {
        agent_lock lock; // not around the reply: the transport takes the lock itself
        if (id == 0) {
            a.used = false; // add_probe replied with the refusal
            return;
        }
        a.probe_id = id;
    }
    reply(f, wire::aggregation_add_response{.status = 0, .probe_id = id});
}

void aggregation_read(const wire::frame& f) {
    wire::aggregation_read_request req;
    if (!parse(f, req)) {
        return;
    }
    size_t len = 0;
    {
        agent_lock lock; // the page is built under the lock and sent after it
        len = build_page(f, req);
    }
    if (len == 0) {
        reply_status(f, wire::status_of(ruprobes::error::not_found));
        return;
    }
    send_frame(len, true);
}

void aggregation_release(uint32_t probe_id) {
    agent_lock lock;
    if (aggregation* a = find_table(probe_id))
        a->used = false;
}

namespace {

size_t build_page(const wire::frame& f, const wire::aggregation_read_request& req) {
    const aggregation* a = find_table(req.probe_id);
    if (a == nullptr)
        return 0;
    wire::frame_builder b(tx_frame, wire::aggregation_read_response::code, f.request_id);
    wire::write_fields(b.payload(), wire::aggregation_read_response{.status = 0,
                                                                    .total = a->keys,
                                                                    .count = 0,
                                                                    .buckets = a->buckets,
                                                                    .hits = a->hits,
                                                                    .dropped = a->dropped});
    uint32_t count = 0;
    const size_t entry_size = entry_fixed + 8 * a->buckets;
    for (uint32_t i = req.start; i < a->keys; i++) {
        if (b.payload().size() + entry_size > wire::max_payload)
            break; // the page is full: the host asks again from start + count
        const key_stats& s = a->stats[i];
        wire::write_fields(b.payload(),
                           wire::aggregation_entry{
                               .key = s.key,
                               .count = s.count,
                               .sum = s.sum,
                               .min = static_cast<uint64_t>(s.min),
                               .max = static_cast<uint64_t>(s.max),
                               .histogram = wire::bytes(reinterpret_cast<const uint8_t*>(s.buckets),
                                                        8 * a->buckets)});
        count++;
    }
    b.payload().patch(8, count, 4);
    return b.finish();
}

} // namespace

} // namespace agent
