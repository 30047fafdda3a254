// libFuzzer target for the kernel <-> host wire decoder (protocol/include/ruprobes/wire): the
// same code the kernel runs on bytes from the host. The input is split into chunks of varying
// size (from its first byte) and every frame found is decoded as every message it could be;
// decoded messages are re-encoded and must decode to the same bytes, and every frame sealed again
// with either trailer (CRC-32, word checksum) decodes to the same frame.
#include "ruprobes/wire/codec.hpp"
#include "ruprobes/wire/fetch.hpp"
#include "ruprobes/wire/trace_frame.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace wire = ruprobes::wire;

namespace {

template <typename M>
void try_decode(const wire::frame& f) {
    size_t used = 0;
    auto m = wire::decode<M>(f, &used);
    if (!m.ok()) {
        return;
    }
    if (used > f.payload.size()) {
        std::abort();
    }
    // Re-encoding the decoded message reproduces its bytes.
    std::vector<uint8_t> out(wire::max_frame);
    size_t n = wire::encode(out, f.request_id, *m);
    if (n == 0 || n - wire::header_size - wire::trailer_size != used) {
        std::abort();
    }
    if (std::memcmp(out.data() + wire::header_size, f.payload.data(), used) != 0) {
        // Reserved fields may differ (they are written as zero): compare a second round trip.
        wire::frame again{f.type, f.request_id,
                          std::span<const uint8_t>(out.data() + wire::header_size, used)};
        auto m2 = wire::decode<M>(again);
        if (!m2.ok()) {
            std::abort();
        }
    }
}

template <typename E>
void try_entries(wire::bytes rest, uint32_t count, size_t stride) {
    wire::entry_reader<E> entries(rest, count, stride);
    uint32_t seen = 0;
    while (entries.next()) {
        seen++;
    }
    if (seen > count) {
        std::abort();
    }
}

// The daemon reads a hit's fetched data: every item it yields lies inside the data, and there
// are never more items than data bytes.
void read_fetched_items(wire::bytes data) {
    wire::fetch_item_reader items(data);
    size_t seen = 0;
    while (auto item = items.next()) {
        if (!item->data.empty() &&
            (item->data.data() < data.data() ||
             item->data.data() + item->data.size() > data.data() + data.size()))
            std::abort();
        if (item->status == wire::fetch_status::unreadable && !item->data.empty())
            std::abort();
        if (++seen > data.size())
            std::abort();
    }
}

// Hit records through the daemon's reassembly of fetched data (one assembler per input, as the
// channel keeps one across frames): what it hands on is bounded and its items read safely.
wire::fetch_assembler assembler;

struct fetch_sink {
    void plain(const wire::hit_record& r) {
        if ((r.flags & wire::hit_flag_fetch) != 0 || r.kind == wire::hit_kind_fetch_data)
            std::abort();
    }
    void fetched(const wire::hit_record& head, wire::bytes data, bool) {
        if ((head.flags & wire::hit_flag_fetch) == 0 ||
            data.size() > wire::max_fetch_records * wire::fetch_chunk_size)
            std::abort();
        read_fetched_items(data);
    }
    void stray(const wire::hit_record& r) {
        if (r.kind != wire::hit_kind_fetch_data)
            std::abort();
    }
};

void decode_all(const wire::frame& f) {
    try_decode<wire::hello_request>(f);
    try_decode<wire::hello_response>(f);
    try_decode<wire::ping_request>(f);
    try_decode<wire::ping_response>(f);
    try_decode<wire::hits_ack_notice>(f);
    try_decode<wire::probe_add_request>(f);
    try_decode<wire::probe_add_response>(f);
    try_decode<wire::probe_remove_request>(f);
    try_decode<wire::probe_list_request>(f);
    try_decode<wire::aggregation_add_request>(f);
    try_decode<wire::aggregation_add_response>(f);
    try_decode<wire::aggregation_read_request>(f);
    try_decode<wire::process_spawn_request>(f);
    try_decode<wire::process_spawn_response>(f);
    try_decode<wire::process_kill_request>(f);
    try_decode<wire::thread_list_request>(f);
    try_decode<wire::thread_stop_request>(f);
    try_decode<wire::regs_get_response>(f);
    try_decode<wire::regs_set_request>(f);
    try_decode<wire::fp_regs_get_response>(f);
    try_decode<wire::fp_regs_set_request>(f);
    try_decode<wire::mem_read_request>(f);
    try_decode<wire::mem_read_response>(f);
    try_decode<wire::mem_write_request>(f);
    try_decode<wire::kernel_ready_event>(f);
    try_decode<wire::drops_event>(f);
    try_decode<wire::stop_event>(f);
    try_decode<wire::exec_event>(f);
    try_decode<wire::exit_event>(f);
    try_decode<wire::channel_test_request>(f);
    try_decode<wire::channel_test_response>(f);
    try_decode<wire::filler_event>(f);
    try_decode<wire::tracepoint_add_request>(f);
    try_decode<wire::tracepoint_add_response>(f);
    try_decode<wire::trace_start_request>(f);
    try_decode<wire::trace_start_response>(f);
    try_decode<wire::trace_stop_request>(f);
    try_decode<wire::trace_status_request>(f);
    try_decode<wire::trace_status_response>(f);
    try_decode<wire::trace_frame_read_request>(f);
    if (auto t = wire::decode<wire::trace_frame_read_response>(f); t.ok()) {
        // The daemon reads a frame's blocks: every block it yields lies inside the data.
        wire::trace_block_reader blocks(t->data);
        size_t seen = 0;
        while (auto b = blocks.next()) {
            if (b->tag == wire::trace_block_memory &&
                (b->memory.data() < t->data.data() ||
                 b->memory.data() + b->memory.size() > t->data.data() + t->data.size()))
                std::abort();
            if (b->tag == wire::trace_block_registers)
                (void)wire::trace_block_reader::register_value(*b, 32);
            if (++seen > t->data.size())
                std::abort();
        }
    }

    size_t used = 0;
    if (auto h = wire::decode<wire::hits_event>(f, &used); h.ok()) {
        try_entries<wire::hit_record>(f.payload.subspan(used), h->count, h->record_size);
        if (h->record_size >= wire::hit_record_size) {
            wire::entry_reader<wire::hit_record> records(f.payload.subspan(used), h->count,
                                                         h->record_size);
            fetch_sink sink;
            while (auto r = records.next())
                assembler.feed(*r, sink);
        }
    }
    if (auto p = wire::decode<wire::probe_add_request>(f); p.ok()) {
        // The kernel checks a fetch list before it keeps it: what passes fits its bounds.
        if (wire::check_fetch_list(p->fetch) == wire::status::ok) {
            size_t total = 0;
            for (size_t at = 0; at < p->fetch.size(); at += wire::fetch_entry_size)
                total += wire::fetch_entry_max_data(wire::read_fetch_entry(p->fetch.data() + at));
            if (total > wire::max_fetch_data ||
                p->fetch.size() > wire::max_fetch_entries * wire::fetch_entry_size)
                std::abort();
        }
    }
    read_fetched_items(f.payload);
    if (auto a = wire::decode<wire::aggregation_read_response>(f, &used); a.ok()) {
        try_entries<wire::aggregation_entry>(f.payload.subspan(used), a->count, 0);
    }
    if (auto l = wire::decode<wire::probe_list_response>(f, &used); l.ok()) {
        try_entries<wire::probe_entry>(f.payload.subspan(used), l->count, 0);
    }
    if (auto l = wire::decode<wire::process_list_response>(f, &used); l.ok()) {
        try_entries<wire::process_entry>(f.payload.subspan(used), l->count, 0);
    }
    if (auto l = wire::decode<wire::thread_list_response>(f, &used); l.ok()) {
        try_entries<wire::thread_entry>(f.payload.subspan(used), l->count, 0);
    }
    (void)wire::type_name(f.type);
}

// True when `f` is a hits frame whose records fill the payload with consecutive seq numbers:
// one that may be sequence-checked (README §1).
bool seq_checkable(const wire::frame& f) {
    auto h = wire::decode<wire::hits_event>(f);
    if (!h.ok() || h->record_size < 8 ||
        f.payload.size() != 16 + size_t(h->count) * h->record_size) {
        return false;
    }
    for (size_t i = 0; i < h->count; i++) {
        uint64_t seq;
        std::memcpy(&seq, f.payload.data() + 16 + i * h->record_size, 8);
        if (seq != h->first_seq + i) {
            return false;
        }
    }
    return true;
}

// The frame sealed again with each trailer (CRC-32, the word checksum and, for a hits frame
// whose records are in sequence, the sequence check) decodes to the same type, id and payload.
void reseal_both_ways(const wire::frame& f) {
    for (uint8_t flags :
         {uint8_t(0), wire::frame_flag_word_checksum, wire::frame_flag_seq_checked}) {
        if (flags == wire::frame_flag_seq_checked && !seq_checkable(f)) {
            continue;
        }
        std::vector<uint8_t> out(wire::max_frame);
        wire::frame_builder b(out, f.type, f.request_id, flags);
        b.payload().data(f.payload);
        size_t n = b.finish();
        if (n != wire::header_size + f.payload.size() + wire::trailer_size) {
            std::abort();
        }
        std::vector<uint8_t> storage(wire::max_frame);
        wire::frame_decoder again(storage);
        again.feed(wire::bytes(out.data(), n));
        auto g = again.next();
        if (!g || g->type != f.type || g->request_id != f.request_id ||
            g->payload.size() != f.payload.size() ||
            std::memcmp(g->payload.data(), f.payload.data(), f.payload.size()) != 0) {
            std::abort();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    size_t chunk = (data[0] % 64) + 1;
    assembler.reset();
    wire::bytes input(data + 1, size - 1);

    static std::vector<uint8_t> storage(wire::max_frame);
    wire::frame_decoder decoder(storage);
    size_t delivered = 0;
    while (!input.empty()) {
        size_t take = input.size() < chunk ? input.size() : chunk;
        size_t n = decoder.feed(input.first(take));
        if (n == 0 && decoder.buffered() == wire::max_frame) {
            // A full buffer must always yield a frame or a rejection.
            if (!decoder.next()) {
                std::abort();
            }
            continue;
        }
        input = input.subspan(n);
        while (auto f = decoder.next()) {
            if (f->payload.size() > wire::max_payload) {
                std::abort();
            }
            decode_all(*f);
            reseal_both_ways(*f);
            delivered++;
        }
    }
    if (decoder.stats().frames != delivered) {
        std::abort();
    }
    return 0;
}
