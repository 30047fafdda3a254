// Cursors over the shared event log, loss at the gaps, and burst-coalesced wake-ups.
#include "events/event_hub.hpp"

#include <algorithm>

namespace ruprobes::events {

void event_batch::clear() {
    lost = 0;
    pieces.clear();
    keep.clear();
    bytes = 0;
    events = 0;
    file = -1;
    offsets.clear();
}

bool event_batch::file_range(uint64_t& offset, std::size_t& size) const {
    if (file < 0 || pieces.empty() || offsets.size() != pieces.size())
        return false;
    for (std::size_t i = 1; i < pieces.size(); i++) {
        if (offsets[i] != offsets[i - 1] + pieces[i - 1].size())
            return false;
    }
    offset = offsets.front();
    size = static_cast<std::size_t>(offsets.back() + pieces.back().size() - offset);
    return true;
}

subscriber::subscriber(event_hub* hub, std::weak_ptr<bool> hub_alive, std::function<void()> wake)
    : hub_(hub), hub_alive_(std::move(hub_alive)), wake_(std::move(wake)),
      cursor_(hub->log_.end()) {}

subscriber::~subscriber() {
    if (hub_alive_.expired())
        return;
    auto& subs = hub_->subscribers_;
    subs.erase(std::remove(subs.begin(), subs.end(), this), subs.end());
}

uint64_t subscriber::add_filter(event_filter filter) {
    bool alive = !hub_alive_.expired();
    uint64_t id = alive ? hub_->next_filter_++ : 0;
    filters_[id] = filter_entry{std::move(filter), alive ? hub_->log_.end() : 0};
    refresh_masks();
    return id;
}

bool subscriber::remove_filter(uint64_t id) {
    if (filters_.erase(id) == 0)
        return false;
    refresh_masks();
    return true;
}

void subscriber::refresh_masks() {
    any_kinds_ = 0;
    free_kinds_ = 0;
    max_since_ = 0;
    for (const auto& [id, f] : filters_) {
        any_kinds_ |= f.filter.kinds;
        free_kinds_ |= f.filter.unrestricted_kinds();
        max_since_ = std::max(max_since_, f.since);
    }
}

bool subscriber::matches(uint64_t index, const event_meta& meta) const {
    for (const auto& [id, f] : filters_) {
        if (index >= f.since && f.filter.matches(meta))
            return true;
    }
    return false;
}

subscriber::coverage subscriber::cover(const event_chunk& c, uint64_t from) const {
    if ((c.kinds() & any_kinds_) == 0)
        return coverage::none;
    // Every kind in the chunk is taken whatever the probe and pid, by filters that all apply
    // from `from` on: every event matches without looking at it.
    if (from >= max_since_ && (c.kinds() & ~free_kinds_) == 0)
        return coverage::all;
    return coverage::each;
}

namespace {

// What skipping one event loses: the event, or the events a skipped loss notice announced.
uint64_t loss_of(const event_meta& meta) {
    return meta.kind == event_kind::events_lost ? meta.lost : 1;
}

} // namespace

uint64_t subscriber::count_matches(const event_chunk& c, uint64_t from, uint64_t to) const {
    constexpr uint32_t notices = static_cast<uint32_t>(event_kind::events_lost);
    coverage cov = cover(c, from);
    if (cov == coverage::none)
        return 0;
    if (cov == coverage::all && (c.kinds() & notices) == 0)
        return to - from;
    uint64_t n = 0;
    for (uint64_t i = from; i < to; i++) {
        if (cov == coverage::all || matches(i, c.meta(i)))
            n += loss_of(c.meta(i));
    }
    return n;
}

bool subscriber::has_match(uint64_t from) const {
    if (lost_pending_ > 0)
        return true;
    const event_log& log = hub_->log_;
    while (from < log.end()) {
        const event_chunk& c = *log.chunk_of(from);
        switch (cover(c, from)) {
        case coverage::none:
            break;
        case coverage::all:
            return true;
        case coverage::each:
            for (uint64_t i = from; i < c.end(); i++) {
                if (matches(i, c.meta(i)))
                    return true;
            }
            break;
        }
        from = c.end();
    }
    return false;
}

bool subscriber::take(event_batch& out, std::size_t max_bytes, std::size_t max_pieces,
                      piece_mode mode) {
    if (hub_alive_.expired())
        return false;
    // Line pieces are also handed out as ranges of the log's file (written by sync_file).
    const event_file* file = mode == piece_mode::lines ? hub_->log_.file() : nullptr;
    const event_log& log = hub_->log_;
    cursor_ = std::max(cursor_, log.begin()); // trim() moves cursors first; never older
    out.file = file ? file->fd() : -1;
    out.lost = lost_pending_;
    lost_pending_ = 0;
    max_pieces = std::max<std::size_t>(max_pieces, 1);
    while (cursor_ < log.end() && out.bytes < max_bytes && out.pieces.size() < max_pieces) {
        const chunk_ptr& chunk = log.chunk_of(cursor_);
        const event_chunk& c = *chunk;
        coverage cov = cover(c, cursor_);
        if (cov == coverage::none) {
            cursor_ = c.end();
            continue;
        }
        if (cov == coverage::all && mode == piece_mode::lines) {
            // The fast path: one piece for as much of the chunk as the budget takes.
            uint64_t to = c.fit(cursor_, max_bytes - out.bytes);
            std::string_view piece = c.lines(cursor_, to);
            out.keep.push_back(chunk);
            out.pieces.push_back(piece);
            if (file)
                out.offsets.push_back(c.offset_of(piece));
            out.bytes += piece.size();
            out.events += to - cursor_;
            cursor_ = to;
            continue;
        }
        bool kept = false;
        bool extend = false; // the last piece ends right before the next matching line
        uint64_t i = cursor_;
        for (; i < c.end(); i++) {
            if (out.bytes >= max_bytes)
                break;
            if (cov == coverage::each && !matches(i, c.meta(i))) {
                extend = false;
                continue;
            }
            if (!kept) {
                out.keep.push_back(chunk);
                kept = true;
            }
            if (mode == piece_mode::lines) {
                std::string_view line = c.lines(i, i + 1);
                if (extend) {
                    std::string_view& last = out.pieces.back();
                    last = std::string_view(last.data(), last.size() + line.size());
                } else if (out.pieces.size() < max_pieces) {
                    out.pieces.push_back(line);
                    if (file)
                        out.offsets.push_back(c.offset_of(line));
                } else {
                    break;
                }
                extend = true;
                out.bytes += line.size();
            } else {
                if (out.pieces.size() >= max_pieces)
                    break;
                std::string_view text = c.text(i);
                out.pieces.push_back(text);
                out.bytes += text.size() + 1;
            }
            out.events++;
        }
        cursor_ = i;
    }
    delivered_ += out.events;
    idle_ = out.empty();
    return !idle_;
}

bool subscriber::sync_file() {
    return !hub_alive_.expired() && hub_->log_.sync() != nullptr;
}

subscriber_stats subscriber::stats() const {
    if (hub_alive_.expired())
        return subscriber_stats{delivered_, lost_total_, 0, 0};
    return subscriber_stats{delivered_, lost_total_, hub_->log_.end() - cursor_,
                            hub_->log_.window()};
}

event_hub::event_hub(std::size_t window, bool mirror) : log_(window, mirror) {}

std::shared_ptr<subscriber> event_hub::attach(std::function<void()> wake) {
    std::shared_ptr<subscriber> s(new subscriber(this, alive_, std::move(wake)));
    subscribers_.push_back(s.get());
    return s;
}

std::size_t event_hub::takers(uint32_t kinds) const {
    std::size_t n = 0;
    for (const subscriber* s : subscribers_)
        n += (s->any_kinds_ & kinds) != 0 ? 1 : 0;
    return n;
}

void event_hub::publish(const published_event& event) {
    log_.append(event.meta(), event.text);
    trim();
    if (flush_pending_)
        return;
    if (schedule_) {
        flush_pending_ = true;
        schedule_();
    } else {
        flush();
    }
}

bool event_hub::readers_behind(std::chrono::steady_clock::time_point now,
                               std::chrono::steady_clock::duration patience) {
    const uint64_t limit = log_.window() / 2;
    bool behind = false;
    for (subscriber* s : subscribers_) {
        if (s->filters_.empty() || log_.end() - std::min(s->cursor_, log_.end()) <= limit) {
            s->stalled_ = false;
            s->progress_at_ = {};
            continue;
        }
        if (s->stalled_)
            continue;
        // Progress: events taken, or bytes its reader took (a write in flight can be long).
        const uint64_t progress = s->cursor_ + (s->progress_ ? s->progress_() : 0);
        if (s->progress_at_ == std::chrono::steady_clock::time_point{} ||
            progress != s->last_progress_) {
            s->last_progress_ = progress;
            s->progress_at_ = now;
        } else if (now - s->progress_at_ > patience) {
            s->stalled_ = true;
            stalls_++;
            continue;
        }
        behind = true;
    }
    return behind;
}

void event_hub::trim() {
    while (log_.over_window()) {
        // Cursors still inside the oldest chunk skip past it; what they skip that they would
        // have taken is their loss, reported at the gap.
        const event_chunk& old = log_.oldest();
        for (subscriber* s : subscribers_) {
            if (s->cursor_ >= old.end())
                continue;
            uint64_t n = s->count_matches(old, std::max(s->cursor_, old.first()), old.end());
            s->lost_pending_ += n;
            s->lost_total_ += n;
            s->cursor_ = old.end();
        }
        log_.drop_oldest();
    }
}

void event_hub::flush() {
    flush_pending_ = false;
    // Wake callbacks only schedule work (see attach), so the list cannot change under us.
    for (subscriber* s : subscribers_) {
        if (!s->idle_)
            continue;
        if (s->has_match(s->cursor_)) {
            s->idle_ = false;
            if (s->wake_)
                s->wake_();
        } else {
            s->cursor_ = log_.end();
        }
    }
}

} // namespace ruprobes::events
