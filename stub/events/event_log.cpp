// Chunks of serialised events and the window over them.
#include "events/event_log.hpp"

#include <algorithm>
#include <cstring>

namespace ruprobes::events {

namespace {

// Text per chunk: about a hundred probe.hit lines, so a writer hands the socket a few large
// pieces and a dropped chunk is a small part of the window.
constexpr std::size_t chunk_bytes = 32 * 1024;
constexpr std::size_t max_chunk_events = 256;

} // namespace

event_chunk::event_chunk(uint64_t first, std::size_t capacity, std::size_t max_events,
                         uint64_t offset, std::shared_ptr<event_file> file)
    : first_(first), capacity_(capacity), max_events_(max_events ? max_events : 1),
      data_(new char[capacity]), offset_(offset), file_(std::move(file)) {
    std::size_t expect = std::min(max_events_, capacity / 128 + 1);
    ends_.reserve(expect);
    metas_.reserve(expect);
    if (file_)
        file_->chunk_alive(offset_);
}

event_chunk::~event_chunk() {
    if (file_)
        file_->chunk_gone(offset_);
}

std::string_view event_chunk::lines(uint64_t from, uint64_t to) const {
    std::size_t a = offset(from), b = offset(to);
    return std::string_view(data_.get() + a, b - a);
}

std::string_view event_chunk::text(uint64_t index) const {
    std::size_t a = offset(index), b = ends_[index - first_];
    return std::string_view(data_.get() + a, b - a - 1);
}

uint64_t event_chunk::fit(uint64_t from, std::size_t max_bytes) const {
    if (from >= end())
        return end();
    std::size_t limit = offset(from) + max_bytes;
    // The first event whose line ends past the limit stays out (unless it is the first one).
    auto it =
        std::upper_bound(ends_.begin() + static_cast<std::ptrdiff_t>(from - first_), ends_.end(),
                         static_cast<uint32_t>(std::min<std::size_t>(limit, UINT32_MAX)));
    uint64_t to = first_ + static_cast<uint64_t>(it - ends_.begin());
    return std::max(to, from + 1);
}

bool event_chunk::append(const event_meta& meta, std::string_view text) {
    if (full() || size_ + text.size() + 1 > capacity_)
        return false;
    std::memcpy(data_.get() + size_, text.data(), text.size());
    size_ += text.size();
    data_[size_++] = '\n';
    ends_.push_back(static_cast<uint32_t>(size_));
    metas_.push_back(meta);
    kinds_ |= static_cast<uint32_t>(meta.kind);
    return true;
}

event_log::event_log(std::size_t window, bool mirror)
    : window_(window ? window : 1),
      chunk_events_(std::clamp<std::size_t>(window_ / 8, 1, max_chunk_events)),
      file_(mirror ? event_file::create() : nullptr) {}

void event_log::append(const event_meta& meta, std::string_view text) {
    if (!open_ || !open_->append(meta, text)) {
        // A new chunk, its text right after the previous one's (which takes no more); a line
        // longer than a chunk gets a chunk of its own size.
        std::size_t capacity = std::max(chunk_bytes, text.size() + 1);
        open_ = std::make_shared<event_chunk>(end_, capacity, chunk_events_, text_end_,
                                              file_ && file_->usable() ? file_ : nullptr);
        open_->append(meta, text);
        chunks_.push_back(open_);
    }
    text_end_ += text.size() + 1;
    end_++;
}

const event_file* event_log::sync() {
    if (!file_ || !file_->usable())
        return nullptr;
    if (file_->end() == text_end_)
        return file_.get();
    // The chunks holding [file end, text end): the newest ones. Text dropped before it was
    // written is skipped (nobody can take it any more).
    auto it = chunks_.end();
    while (it != chunks_.begin() && (*(it - 1))->text_end() > file_->end())
        --it;
    if (it != chunks_.end())
        file_->skip_to((*it)->text_begin());
    std::vector<std::string_view> parts; // one write for all of them
    for (uint64_t at = file_->end(); it != chunks_.end(); ++it) {
        parts.push_back((*it)->text_from(at));
        at = (*it)->text_end();
    }
    if (!file_->append(parts))
        return nullptr;
    file_->skip_to(text_end_); // only when every chunk was dropped
    return file_->usable() ? file_.get() : nullptr;
}

bool event_log::over_window() const {
    // Chunks hold at most window/8 events (at least 1), so the open chunk itself is never over.
    return !chunks_.empty() && end_ - chunks_.front()->first() > window_;
}

void event_log::drop_oldest() {
    if (chunks_.front() == open_)
        open_.reset();
    chunks_.pop_front();
}

const chunk_ptr& event_log::chunk_of(uint64_t index) const {
    // Chunks are in index order: the last one whose first index is <= index.
    auto it = std::upper_bound(chunks_.begin(), chunks_.end(), index,
                               [](uint64_t i, const auto& c) { return i < c->first(); });
    return *(it - 1);
}

std::size_t event_log::bytes() const {
    std::size_t n = 0;
    for (const auto& c : chunks_)
        n += c->lines(c->first(), c->end()).size();
    return n;
}

} // namespace ruprobes::events
