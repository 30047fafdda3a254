// The shared log's text in its memory file: at the same offsets as in the chunks (one contiguous
// stream across chunks), written by sync(), handed to writers as one file range when the pieces
// are a run, and released page by page behind the oldest chunk anyone still holds.
#include "events/event_file.hpp"
#include "events/event_hub.hpp"
#include "events/event_log.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace ruprobes::events {
namespace {

std::string read_file(int fd, uint64_t offset, std::size_t size) {
    std::string out(size, '\0');
    ssize_t n = ::pread(fd, out.data(), size, static_cast<off_t>(offset));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

// Bytes the file holds in memory (not its size: holes take none).
uint64_t allocated(int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return static_cast<uint64_t>(st.st_blocks) * 512;
}

published_event hit(uint64_t n) {
    published_event e;
    e.kind = event_kind::probe_hit;
    e.probe = 1;
    e.pid = 1;
    e.text = "hit " + std::to_string(n) + std::string(200, 'x');
    return e;
}

TEST(event_file, the_log_text_is_one_stream_across_chunks_and_sync_writes_it_at_its_offsets) {
    event_log log(64); // chunks of 8 events
    for (uint64_t i = 0; i < 20; i++)
        log.append(event_meta{}, "event " + std::to_string(i));
    ASSERT_EQ(log.chunk_count(), 3u);
    for (uint64_t i = 8; i < 20; i += 8) {
        EXPECT_EQ(log.chunk_of(i)->text_begin(), log.chunk_of(i - 1)->text_end())
            << "a chunk's text starts where the previous one's ended";
    }
    const event_file* file = log.sync();
    ASSERT_NE(file, nullptr) << "memfd_create failed";
    EXPECT_EQ(file->end(), log.text_end());
    for (uint64_t i = 0; i < 20; i++) {
        const event_chunk& c = *log.chunk_of(i);
        std::string_view line = c.lines(i, i + 1);
        EXPECT_EQ(read_file(file->fd(), c.offset_of(line), line.size()), line);
    }
    log.append(event_meta{}, "later");
    EXPECT_EQ(read_file(file->fd(), log.text_end() - 6, 6), "") << "not before the next sync";
    log.sync();
    EXPECT_EQ(read_file(file->fd(), log.text_end() - 6, 6), "later\n");
}

TEST(event_file, a_run_of_lines_across_chunks_is_one_file_range_and_a_filtered_one_is_not) {
    event_hub hub(4096);
    auto all = hub.attach(nullptr);
    all->add_filter({});
    auto some = hub.attach(nullptr);
    event_filter f;
    f.probes = {2};
    f.kinds = static_cast<uint32_t>(event_kind::probe_hit);
    some->add_filter(f);
    for (uint64_t i = 0; i < 600; i++) { // about 4 chunks of 32 KiB
        published_event e = hit(i);
        e.probe = i % 3 == 0 ? 2 : 1;
        hub.publish(e);
    }
    ASSERT_GT(hub.log().chunk_count(), 2u);

    event_batch b;
    ASSERT_TRUE(all->take(b, 1 << 20, 64, piece_mode::lines));
    ASSERT_GT(b.pieces.size(), 2u) << "one piece per chunk";
    uint64_t offset = 0;
    std::size_t size = 0;
    ASSERT_TRUE(b.file_range(offset, size)) << "the pieces follow each other in the file";
    ASSERT_TRUE(all->sync_file());
    std::string joined;
    for (std::string_view piece : b.pieces)
        joined += piece;
    EXPECT_EQ(size, joined.size());
    EXPECT_EQ(read_file(b.file, offset, size), joined);

    event_batch s;
    ASSERT_TRUE(some->take(s, 1 << 20, 64, piece_mode::lines));
    EXPECT_FALSE(s.file_range(offset, size)) << "gaps between the pieces: a gathered write";

    event_batch e;
    EXPECT_EQ(hub.takers(static_cast<uint32_t>(event_kind::probe_hit)), 2u);
    EXPECT_EQ(hub.takers(static_cast<uint32_t>(event_kind::process_exit)), 1u);
    auto other = hub.attach(nullptr);
    other->add_filter({});
    hub.publish(hit(1000));
    ASSERT_TRUE(other->take(e, 1 << 20, 64, piece_mode::events));
    EXPECT_FALSE(e.file_range(offset, size)) << "event pieces are framed one by one";
}

TEST(event_file, pages_behind_the_oldest_held_chunk_are_released) {
    event_hub hub(64);
    auto s = hub.attach(nullptr);
    s->add_filter({});
    hub.publish(hit(0));
    event_batch held;
    ASSERT_TRUE(s->take(held, 1 << 20, 64, piece_mode::lines)); // holds the first chunk
    int fd = held.file;
    ASSERT_GE(fd, 0);
    for (uint64_t i = 1; i < 4000; i++) { // ~840 KiB of text through a 64-event window
        hub.publish(hit(i));
        event_batch b;
        s->take(b, 1 << 20, 64, piece_mode::lines);
        s->sync_file(); // as a writer sending from the file
    }
    uint64_t text = hub.log().text_end();
    EXPECT_GT(allocated(fd), text - 8192) << "the held chunk keeps everything after it";
    EXPECT_EQ(read_file(fd, held.offsets[0], held.pieces[0].size()), held.pieces[0]);

    held.clear();
    hub.publish(hit(4000));
    event_batch b;
    s->take(b, 1 << 20, 64, piece_mode::lines);
    s->sync_file();
    b.clear();
    EXPECT_LT(allocated(fd), 384 * 1024) << "released down to the window and one release run";
    EXPECT_EQ(read_file(fd, 0, 16), std::string(16, '\0')) << "a hole now";
}

} // namespace
} // namespace ruprobes::events
