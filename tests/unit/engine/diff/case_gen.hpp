// Case generation for the differential test: instructions x register states x memory windows,
// from a seeded PRNG, shaped so that each one can run for real in the harness (memory accesses
// land in the window or in the fault area, jumps land on a pad within +-1 MiB, nothing loops).
#pragma once

#include "diff_format.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ruprobes::diff {

struct generated_cases {
    std::vector<case_in> cases;
    std::vector<std::string> categories; // one label per case ("random32", "muldiv", ...)
};

// Every 16-bit parcel once (compared, or checked for SIGILL / execution by class), then about
// `random_target` random and targeted 32-bit and compressed cases: division by zero and
// overflow, shift amounts 0/31/32/63, x0 as destination, branches taken and not taken both ways,
// jump targets both ways, every load/store width, faults; then random_target / 8 illegal words
// and random_target / 16 out-of-line words whose class is checked against the CPU.
generated_cases generate_cases(uint64_t seed, size_t random_target);

} // namespace ruprobes::diff
