// When the host acknowledges hit records (protocol/README.md §4). Every acknowledgement that
// reaches the kernel wakes its agent, so acknowledgements are gathered: one goes at once when
// `batch` records or more wait for it (the kernel stops sending at its window, hello's
// hit_window), otherwise it rides with the next frame to the kernel, or goes when the delay
// (the caller's timer) ends, whichever comes first. A debugger's breakpoint stop makes one record;
// its acknowledgement then travels with gdb's next resume instead of costing the kernel a wake-up
// of its own. The kernel keeps every record until it is acknowledged and sends again what is
// unacknowledged after a second, so the delay must stay well below that.
#pragma once

#include <cstdint>

namespace ruprobes::channel {

class hit_acks {
public:
    // Records up to (not including) `next_seq` arrived. True when the acknowledgement is due now.
    bool arrived(uint64_t next_seq) {
        if (next_seq > due_) {
            due_ = next_seq;
        }
        return due_ - sent_ >= batch_;
    }

    // The seq to acknowledge now (0: nothing new), counted as sent.
    uint64_t take() {
        if (due_ <= sent_) {
            return 0;
        }
        sent_ = due_;
        return sent_;
    }

    bool waiting() const { return due_ > sent_; }

    // A new session (hello) whose records start at `next_seq`; acknowledge at once when `batch`
    // records wait (1: every batch at once).
    void reset(uint64_t next_seq, uint32_t batch) {
        due_ = next_seq;
        sent_ = next_seq;
        batch_ = batch == 0 ? 1 : batch;
    }

private:
    uint64_t due_ = 0;  // acknowledge up to here
    uint64_t sent_ = 0; // acknowledged up to here
    uint32_t batch_ = 1;
};

} // namespace ruprobes::channel
