// Fan-out of events to subscribers through one shared log. Publishing appends the event's text
// to the log once (event_log.hpp); each subscriber (one JSON-RPC session) holds a cursor into
// the log and a set of filters, and its writer takes the matching events after its cursor as
// pieces of the shared text: runs of whole lines, or single events. Nothing is copied or counted
// per subscriber at publish time.
//
// The log keeps the last `window` events. A subscriber whose cursor falls further behind skips
// ahead: the events it missed that match its filters are counted, and its next take reports
// them as lost before the events that follow the gap. So a slow or stalled subscriber holds no
// memory of its own (beyond the chunks of the write it has in flight) and never slows the
// others.
//
// Wake-ups: a subscriber whose writer found nothing to take is idle. Publishing asks the owner
// to schedule a flush (once per burst); the flush wakes every idle subscriber that has something
// new, so a burst of events costs one wake per subscriber, not one per event.
//
// Single-threaded (the daemon's io_context thread).
#pragma once

#include "events/event_filter.hpp"
#include "events/event_log.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

namespace ruprobes::events {

// What a writer takes in one go: first `lost` (events missing right here: a loss notice goes
// before the pieces), then `pieces` of the shared log's text, kept alive by `keep` until the
// write is over. With line pieces and the log's file (event_file.hpp), `offsets` has each
// piece's offset in `file`, which `keep` keeps open; the text is in the file once
// subscriber::sync_file() has run.
struct event_batch {
    uint64_t lost = 0;
    std::vector<std::string_view> pieces;
    std::vector<chunk_ptr> keep;
    std::size_t bytes = 0;  // of the pieces
    std::size_t events = 0; // in the pieces
    int file = -1;
    std::vector<uint64_t> offsets;

    bool empty() const { return lost == 0 && pieces.empty(); }
    void clear();
    // True when the pieces are one contiguous range of `file`: its offset and size.
    bool file_range(uint64_t& offset, std::size_t& size) const;
};

// How take() cuts the text: runs of consecutive lines ('\n' included; for line framing), or one
// piece per event without its '\n' (for framings that put a header before each message).
enum class piece_mode { lines, events };

struct subscriber_stats {
    uint64_t delivered = 0; // events handed to the writer
    uint64_t lost = 0;      // events skipped because the cursor fell out of the window
    uint64_t lag = 0;       // log events after the cursor now (matching or not)
    std::size_t window = 0; // the most it may lag before it skips ahead
};

class event_hub;

class subscriber {
public:
    ~subscriber();
    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    // Adds a filter; events published from now on that match any filter of this subscriber are
    // delivered once. The id is unique in the hub (events.subscribe returns it).
    uint64_t add_filter(event_filter filter);
    // Removes one of this subscriber's filters; false when it has no filter with that id.
    bool remove_filter(uint64_t id);
    std::size_t filter_count() const { return filters_.size(); }

    // Moves the next matching events (and a pending loss) into `out`, which must be empty: at
    // most about `max_bytes` of text (at least one event) in at most `max_pieces` pieces. False
    // when there was nothing: the subscriber is then idle and its wake callback runs when
    // something new arrives.
    bool take(event_batch& out, std::size_t max_bytes, std::size_t max_pieces, piece_mode mode);

    // Before sending a batch's pieces from its file (event_batch::file_range): writes the log's
    // text to the file up to now; false when that failed (send the pieces from memory). Worth
    // it only when other subscribers take the same text: the write is a copy too.
    bool sync_file();

    subscriber_stats stats() const;

    // A count that grows while the subscriber's reader takes what was written to it (e.g. the
    // bytes its peer acknowledged), for readers_behind(): a write in flight to a slow reader
    // moves no cursor for a while, and must not make it look stalled.
    void set_progress(std::function<uint64_t()> progress) { progress_ = std::move(progress); }

private:
    friend class event_hub;
    struct filter_entry {
        event_filter filter;
        uint64_t since = 0; // the log index from which it applies
    };

    subscriber(event_hub* hub, std::weak_ptr<bool> hub_alive, std::function<void()> wake);
    void refresh_masks();
    bool matches(uint64_t index, const event_meta& meta) const;
    // How the events [from, to) of chunk `c` match: none, all, or it depends on each event.
    enum class coverage { none, all, each };
    coverage cover(const event_chunk& c, uint64_t from) const;
    // Matching events in [from, to) of `c` (from/to inside the chunk).
    uint64_t count_matches(const event_chunk& c, uint64_t from, uint64_t to) const;
    bool has_match(uint64_t from) const;

    event_hub* hub_;
    std::weak_ptr<bool> hub_alive_;
    std::function<void()> wake_;
    std::map<uint64_t, filter_entry> filters_;
    uint32_t any_kinds_ = 0;  // kinds some filter may take
    uint32_t free_kinds_ = 0; // kinds some filter takes whatever their probe and pid
    uint64_t max_since_ = 0;  // from here on, the masks alone decide for free kinds
    uint64_t cursor_ = 0;     // the next log index to look at
    uint64_t lost_pending_ = 0;
    bool idle_ = true;
    uint64_t delivered_ = 0;
    uint64_t lost_total_ = 0;
    // readers_behind(): its progress when last seen lagging, and when that progress was made
    // (epoch: not lagging); stalled: no progress for longer than the hub's patience.
    std::function<uint64_t()> progress_;
    uint64_t last_progress_ = 0;
    std::chrono::steady_clock::time_point progress_at_{};
    bool stalled_ = false;
};

class event_hub {
public:
    // A hub whose log keeps the last `window` events (each subscriber may lag that much), its
    // text also in a file to send from when `mirror` (event_log.hpp).
    explicit event_hub(std::size_t window = 4096, bool mirror = true);
    event_hub(const event_hub&) = delete;
    event_hub& operator=(const event_hub&) = delete;

    // `schedule` is called on the first publish after a flush; it must arrange for flush() to
    // run soon (after the current burst). Without one, publish() flushes at once.
    void set_flush_scheduler(std::function<void()> schedule) { schedule_ = std::move(schedule); }

    // A new subscriber, starting at the end of the log. `wake` is called (from flush) when it
    // was idle and has something to take; it must only schedule that work (never attach,
    // detach or publish from inside). The subscriber leaves the hub when the returned pointer
    // is destroyed.
    std::shared_ptr<subscriber> attach(std::function<void()> wake);

    // Appends `event` to the log for every subscriber with a matching filter.
    void publish(const published_event& event);
    // Wakes idle subscribers that have something new; idle ones with nothing new move their
    // cursor to the end.
    void flush();

    std::size_t subscriber_count() const { return subscribers_.size(); }
    // Subscribers with a filter that may take events of `kinds` (bits of event_kind).
    std::size_t takers(uint32_t kinds) const;
    uint64_t published() const { return log_.end(); }

    // The pace of the hits the kernel sends (the channel acknowledges them only while this is
    // false, so the kernel sends no faster than the slowest reader takes): true while some
    // subscriber with a filter lags more than half the window behind the log, unless it has made
    // no progress (subscriber::set_progress) for longer than `patience` while lagging. Such a
    // subscriber is stalled: it stops holding the others back (it skips ahead and is told of its
    // loss, as before) until it is within half the window again.
    bool readers_behind(std::chrono::steady_clock::time_point now,
                        std::chrono::steady_clock::duration patience);
    // How many times readers_behind() judged a subscriber stalled.
    uint64_t stalls() const { return stalls_; }
    const event_log& log() const { return log_; }

private:
    friend class subscriber;
    void trim();

    event_log log_;
    std::vector<subscriber*> subscribers_;
    std::function<void()> schedule_;
    bool flush_pending_ = false;
    uint64_t stalls_ = 0;
    uint64_t next_filter_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace ruprobes::events
