// What `ruprobes watch` and `ruprobes hist` show, computed from the daemon's notifications and
// probe list: per probe hits, rate and last hit; lost events; call-duration histograms per
// function. No I/O here: the commands feed it and print what it renders.
#pragma once

#include "cli/latency.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ruprobes::cli {

class watch_model {
public:
    // Takes in the result of probe.list: probe ids, kinds, programs, symbols and the daemon's
    // hit totals. Probes missing from the list are dropped unless hits of them were seen.
    void set_probes(const nlohmann::json& probe_list);

    // Takes in one notification (probe.hit, events.lost, process.exit; others are ignored).
    // Returns true when it was a hit of a probe the model does not know yet (the caller may
    // refresh the probe list).
    bool on_notification(const nlohmann::json& message);

    // Closes a rate interval of `seconds`: each probe's rate becomes the hits seen in it / s.
    // Open entries of threads that exited before the previous interval closed are forgotten.
    void end_interval(double seconds);
    // Sets each probe's rate to its hits seen over the whole `seconds` (the final view's average).
    void average_rates(double seconds);

    // Restricts the rows and histograms to these probe ids (empty: all).
    void set_filter(std::vector<int64_t> ids) { filter_ = std::move(ids); }

    // The table: header line, one row per probe, the lost count. With `histograms`, a block
    // per function that has entry/return pairs.
    std::vector<std::string> render(bool histograms) const;
    // {probes: [{id, kind, program, symbol, address, hits, seen, rate, last}], lost,
    //  functions: [{function, histogram, unmatched_returns}], hits_seen}
    nlohmann::json to_json() const;

    uint64_t lost() const { return lost_; }
    uint64_t hits_seen() const { return hits_seen_; }
    // The histogram of "PROGRAM:SYMBOL"; nullptr when no call was measured.
    const log2_histogram* histogram(const std::string& function) const;
    const call_pairing& pairing() const { return pairing_; }

private:
    struct probe_row {
        int64_t id = 0;
        std::string kind, program, symbol, address;
        int64_t offset = 0;
        uint64_t daemon_hits = 0; // probe.list's count, refreshed by set_probes
        uint64_t seen = 0;        // hits received by this watch
        uint64_t seen_at_interval = 0;
        double rate = 0;
        bool listed = false;
        std::string last; // "pid 3 a0=0x5 a1=0x0 a2=0x0" or "pid 3 ret=0x5"
    };
    bool shown(int64_t id) const;
    // "PROGRAM:SYMBOL" for a probe on a function start (offset 0), "" otherwise.
    static std::string function_of(const probe_row& row);

    std::map<int64_t, probe_row> probes_;
    std::map<std::string, log2_histogram> histograms_;
    call_pairing pairing_;
    std::vector<int64_t> filter_;
    std::vector<int64_t> exited_;        // threads that exited during this interval
    std::vector<int64_t> exited_before_; // ... during the previous one
    uint64_t lost_ = 0;
    uint64_t hits_seen_ = 0;
};

} // namespace ruprobes::cli
