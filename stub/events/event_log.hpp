// The shared log of serialised events: every published event's notification text once, one line
// each ('\n' included), appended to chunks of contiguous text. Subscribers read it through
// cursors (log indices); a writer that hands a range of a chunk to the socket keeps the chunk
// alive with one reference per chunk, not per event. The log keeps the last `window` events;
// older chunks are dropped (the hub moves lagging cursors out of a chunk first).
//
// A chunk's text never moves: it is allocated once at its full size, so text handed out stays
// valid while the chunk grows behind it.
//
// The text of all chunks is also one contiguous byte stream (a chunk's text starts where the
// previous chunk's ended), mirrored in an event_file (event_file.hpp) at the same offsets once
// sync() has run, so a run of lines across chunks can be sent from the file in one go.
//
// Single-threaded (the daemon's io_context thread).
#pragma once

#include "events/event_file.hpp"
#include "events/event_filter.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

namespace ruprobes::events {

class event_chunk {
public:
    // A chunk whose first event has log index `first`, for `capacity` bytes of text and at most
    // `max_events` events; its text starts at byte `offset` of the log's text (and of `file`,
    // which may be null).
    event_chunk(uint64_t first, std::size_t capacity, std::size_t max_events, uint64_t offset = 0,
                std::shared_ptr<event_file> file = nullptr);
    ~event_chunk();
    event_chunk(const event_chunk&) = delete;
    event_chunk& operator=(const event_chunk&) = delete;

    uint64_t first() const { return first_; }
    uint64_t end() const { return first_ + ends_.size(); }
    std::size_t count() const { return ends_.size(); }
    // The kind bits of every event in the chunk, or-ed.
    uint32_t kinds() const { return kinds_; }
    bool full() const { return ends_.size() >= max_events_; }

    // The filter keys of event `index` (first() <= index < end()).
    const event_meta& meta(uint64_t index) const { return metas_[index - first_]; }
    // The lines of events [from, to), each with its '\n' (first() <= from <= to <= end()).
    std::string_view lines(uint64_t from, uint64_t to) const;
    // The text of event `index` without its '\n'.
    std::string_view text(uint64_t index) const;
    // The first index in [from, end()] at which the lines from `from` on reach `max_bytes`: the
    // events [from, result) fit in max_bytes (at least one event when from < end()).
    uint64_t fit(uint64_t from, std::size_t max_bytes) const;

    // Appends `text` + '\n'; false (nothing appended) when it does not fit or the chunk is full.
    bool append(const event_meta& meta, std::string_view text);

    // Byte offsets in the log's text: where this chunk's text starts and ends, and where `text`
    // (a piece of this chunk's text) starts.
    uint64_t text_begin() const { return offset_; }
    uint64_t text_end() const { return offset_ + size_; }
    uint64_t offset_of(std::string_view text) const {
        return offset_ + static_cast<uint64_t>(text.data() - data_.get());
    }
    // The chunk's text [from, text_end()) (from >= text_begin()).
    std::string_view text_from(uint64_t from) const {
        return std::string_view(data_.get() + (from - offset_), offset_ + size_ - from);
    }

private:
    std::size_t offset(uint64_t index) const {
        return index == first_ ? 0 : ends_[index - first_ - 1];
    }

    uint64_t first_;
    std::size_t capacity_;
    std::size_t max_events_;
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::vector<uint32_t> ends_; // end offset of each event's line
    std::vector<event_meta> metas_;
    uint32_t kinds_ = 0;
    uint64_t offset_;
    std::shared_ptr<event_file> file_;
};

using chunk_ptr = std::shared_ptr<const event_chunk>;

class event_log {
public:
    // Keeps at least the last `window` events (at least 1); with `mirror`, its text also goes to
    // an event_file (when the system gives one).
    explicit event_log(std::size_t window, bool mirror = true);

    // Log indices: events [begin(), end()) are held; the next one appended gets end().
    uint64_t begin() const { return chunks_.empty() ? end_ : chunks_.front()->first(); }
    uint64_t end() const { return end_; }
    std::size_t window() const { return window_; }

    void append(const event_meta& meta, std::string_view text);

    // True when the oldest chunk lies beyond the window and should be dropped.
    bool over_window() const;
    // The oldest chunk (the log must not be empty).
    const event_chunk& oldest() const { return *chunks_.front(); }
    void drop_oldest();

    // The chunk that holds event `index` (begin() <= index < end()).
    const chunk_ptr& chunk_of(uint64_t index) const;

    std::size_t chunk_count() const { return chunks_.size(); }

    // The file the text goes to, or nullptr when there is none (or it broke).
    const event_file* file() const { return file_ && file_->usable() ? file_.get() : nullptr; }
    // Writes the text appended since the last sync to the file (only when a writer is about to
    // send from it, so text no one sends that way is never written); the file, or nullptr when
    // there is none (or it broke). After it, the text of every chunk of the log is in the file
    // at its offset.
    const event_file* sync();
    // Bytes of text appended so far (the offset the next line starts at).
    uint64_t text_end() const { return text_end_; }
    // Bytes of text the log holds.
    std::size_t bytes() const;

private:
    std::size_t window_;
    std::size_t chunk_events_; // events per chunk, so that a chunk is a small part of the window
    std::deque<chunk_ptr> chunks_;
    std::shared_ptr<event_chunk> open_; // the newest chunk, still taking events
    uint64_t end_ = 0;
    uint64_t text_end_ = 0;
    std::shared_ptr<event_file> file_;
};

} // namespace ruprobes::events
