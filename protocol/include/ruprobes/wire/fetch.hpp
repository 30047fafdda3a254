// What a probe fetches at each hit (protocol/README.md §3, probe_add's `fetch` list, and §3
// "fetched data"): the list's entries, the items the kernel writes, and the continuation records
// that carry them behind the hit record. Freestanding: the kernel checks lists and the daemon
// reads items and reassembles records with the same code.
//
//   fetch entry (8 bytes)          item (4-byte header, then `len` bytes)
//   0 u8  op   1 reg 2 mem 3 str   0 u8  op      as the entry's
//   1 u8  reg  0..31 x_i, 32 pc,   1 u8  status  0 ok, 1 unreadable, 2 truncated (str)
//              33 ret              2 u16 len     reg: 8 (the value); mem/str: 8 (the address)
//   2 u16 len  mem: bytes; str:                  + the bytes read (none when unreadable; a
//              at most this many                 str without its NUL)
//              bytes before NUL
//   4 i32 offset  mem/str: address = reg + offset
#pragma once

#include "ruprobes/wire/messages.hpp"

namespace ruprobes::wire {

enum class fetch_op : uint8_t { reg = 1, mem = 2, str = 3 };
enum class fetch_status : uint8_t { ok = 0, unreadable = 1, truncated = 2 };

inline constexpr uint8_t fetch_reg_pc = 32;
inline constexpr uint8_t fetch_reg_ret = 33; // a0 at the return (return probes)
inline constexpr size_t fetch_entry_size = 8;
inline constexpr size_t max_fetch_entries = 16;
inline constexpr size_t fetch_item_header = 4;
// The fetched data of one hit, item headers included, at most (checked on the worst case when
// the probe is added: every mem read whole, every str at its maximum).
inline constexpr size_t max_fetch_data = 512;
// A continuation record carries this many bytes of the data (record bytes 40..127).
inline constexpr size_t fetch_chunk_size = 88;
inline constexpr size_t max_fetch_records =
    (max_fetch_data + fetch_chunk_size - 1) / fetch_chunk_size; // 6
// The `kind` of a continuation record; a hit record with hit_flag_fetch is followed by
// `fetch_records` of them.
inline constexpr uint8_t hit_kind_fetch_data = 0xFF;

struct fetch_entry {
    fetch_op op = fetch_op::reg;
    uint8_t reg = 0;
    uint16_t len = 0;
    int32_t offset = 0;
};

namespace fetch_detail {
inline uint64_t le(const uint8_t* at, size_t n) {
    uint64_t v = 0;
    for (size_t k = n; k-- > 0;)
        v = (v << 8) | at[k];
    return v;
}
inline void put_le(uint8_t* at, uint64_t v, size_t n) {
    for (size_t k = 0; k < n; k++)
        at[k] = static_cast<uint8_t>(v >> (8 * k));
}
} // namespace fetch_detail

inline void write_fetch_entry(uint8_t* out, const fetch_entry& e) {
    out[0] = static_cast<uint8_t>(e.op);
    out[1] = e.reg;
    fetch_detail::put_le(out + 2, e.len, 2);
    fetch_detail::put_le(out + 4, static_cast<uint32_t>(e.offset), 4);
}

inline fetch_entry read_fetch_entry(const uint8_t* in) {
    return fetch_entry{.op = static_cast<fetch_op>(in[0]),
                       .reg = in[1],
                       .len = static_cast<uint16_t>(fetch_detail::le(in + 2, 2)),
                       .offset = static_cast<int32_t>(fetch_detail::le(in + 4, 4))};
}

// The most data bytes (item header included) entry `e` can make.
inline size_t fetch_entry_max_data(const fetch_entry& e) {
    return fetch_item_header + 8 + (e.op == fetch_op::reg ? 0 : e.len);
}

// Checks a fetch list: 0, status::malformed (a length that is not whole entries, an unknown op
// or register, a mem/str of length 0) or status::too_large (more than max_fetch_entries, or
// more than max_fetch_data bytes on the worst case).
inline int32_t check_fetch_list(bytes list) {
    if (list.size() % fetch_entry_size != 0)
        return status::malformed;
    if (list.size() > max_fetch_entries * fetch_entry_size)
        return status::too_large;
    size_t total = 0;
    for (size_t at = 0; at < list.size(); at += fetch_entry_size) {
        fetch_entry e = read_fetch_entry(list.data() + at);
        if (e.op != fetch_op::reg && e.op != fetch_op::mem && e.op != fetch_op::str)
            return status::malformed;
        if (e.reg > fetch_reg_ret || (e.op != fetch_op::reg && e.len == 0))
            return status::malformed;
        if (e.op == fetch_op::reg && (e.len != 0 || e.offset != 0))
            return status::malformed;
        total += fetch_entry_max_data(e);
    }
    return total > max_fetch_data ? status::too_large : status::ok;
}

// One fetched item: a register's value, or the address a mem/str item read and its bytes.
struct fetch_item {
    fetch_op op = fetch_op::reg;
    fetch_status status = fetch_status::ok;
    uint64_t value = 0; // reg: the value; mem/str: the address
    bytes data;         // mem/str: the bytes read
};

// Reads the items of a hit's fetched data one by one. A truncated item, an unknown op or status,
// or a length that does not fit the op ends the reading with failed().
class fetch_item_reader {
public:
    explicit fetch_item_reader(bytes data) : rest_(data) {}

    std::optional<fetch_item> next() {
        if (rest_.empty() || failed_)
            return std::nullopt;
        if (rest_.size() < fetch_item_header)
            return fail();
        fetch_item item;
        uint8_t op = rest_[0], st = rest_[1];
        size_t len = static_cast<size_t>(fetch_detail::le(rest_.data() + 2, 2));
        if (op < 1 || op > 3 || st > 2 || len < 8 || rest_.size() < fetch_item_header + len)
            return fail();
        item.op = static_cast<fetch_op>(op);
        item.status = static_cast<fetch_status>(st);
        if ((item.op == fetch_op::reg && (len != 8 || st != 0)) ||
            (item.op == fetch_op::mem && st == 2) || (st == 1 && len != 8))
            return fail();
        item.value = fetch_detail::le(rest_.data() + fetch_item_header, 8);
        item.data = rest_.subspan(fetch_item_header + 8, len - 8);
        rest_ = rest_.subspan(fetch_item_header + len);
        return item;
    }
    bool failed() const { return failed_; }

private:
    std::optional<fetch_item> fail() {
        failed_ = true;
        return std::nullopt;
    }
    bytes rest_;
    bool failed_ = false;
};

// A continuation record as the reader sees it through hit_record's fields: bytes 8..15 (time_ns)
// the seq of its hit record, 16..17 its index (1 .. fetch_records), 18..19 the data bytes it
// holds (1 .. 88), 32..35 the probe id, 36 the kind hit_kind_fetch_data, 40..127 the data.
struct fetch_chunk {
    uint64_t hit_seq = 0;
    uint16_t index = 0;
    uint16_t length = 0;
    uint8_t data[fetch_chunk_size] = {};
};

inline fetch_chunk fetch_chunk_of(const hit_record& r) {
    fetch_chunk c;
    c.hit_seq = r.time_ns;
    c.index = static_cast<uint16_t>(r.pid & 0xffff);
    c.length = static_cast<uint16_t>(r.pid >> 16);
    for (size_t i = 0; i < 8; i++)
        fetch_detail::put_le(c.data + 8 * i, r.a[i], 8);
    fetch_detail::put_le(c.data + 64, r.sp, 8);
    fetch_detail::put_le(c.data + 72, r.ra, 8);
    fetch_detail::put_le(c.data + 80, r.ret, 8);
    return c;
}

// Joins hit records that carry fetched data with their continuation records. Feed it every
// record in seq order; it calls the sink's
//   plain(record)                      a record without fetched data
//   fetched(head, data, complete)      a hit and its data (complete: every continuation came)
//   stray(record)                      a continuation record that continues nothing held
// Fixed memory, no allocation.
class fetch_assembler {
public:
    template <typename Sink>
    void feed(const hit_record& r, Sink& sink) {
        if (r.kind == hit_kind_fetch_data) {
            fetch_chunk c = fetch_chunk_of(r);
            if (!holding_ || c.hit_seq != head_.seq || c.index != got_ + 1 ||
                r.seq != head_.seq + c.index || r.probe_id != head_.probe_id || c.length == 0 ||
                c.length > fetch_chunk_size) {
                flush(sink);
                sink.stray(r);
                return;
            }
            for (size_t i = 0; i < c.length; i++)
                data_[used_ + i] = c.data[i];
            used_ += c.length;
            got_++;
            if (got_ == head_.fetch_records) {
                holding_ = false;
                sink.fetched(head_, bytes(data_, used_), true);
            }
            return;
        }
        flush(sink);
        if ((r.flags & hit_flag_fetch) == 0) {
            sink.plain(r);
            return;
        }
        if (r.fetch_records == 0 || r.fetch_records > max_fetch_records) {
            sink.fetched(r, bytes(), false);
            return;
        }
        head_ = r;
        holding_ = true;
        got_ = 0;
        used_ = 0;
    }

    // A held hit whose continuations will not come (the sequence broke): delivered incomplete.
    template <typename Sink>
    void flush(Sink& sink) {
        if (!holding_)
            return;
        holding_ = false;
        sink.fetched(head_, bytes(data_, used_), false);
    }

    bool holding() const { return holding_; }
    void reset() { holding_ = false; }

private:
    hit_record head_{};
    bool holding_ = false;
    uint16_t got_ = 0;
    size_t used_ = 0;
    uint8_t data_[max_fetch_records * fetch_chunk_size] = {};
};

} // namespace ruprobes::wire
