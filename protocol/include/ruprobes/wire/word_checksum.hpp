// The word checksum of the wire protocol's frame trailer for frames with the word_checksum flag
// (protocol/README.md §1): a Fletcher-style sum over little-endian 64-bit words, about 5 RV64
// instructions per 8 bytes where the table-driven CRC-32 takes about 50. The agent uses it for hit
// batches when the host offers the capability: the transport (virtio-console into a unix socket)
// delivers bytes in order without corrupting them, so the trailer only has to catch the frames a
// reader resynchronises into (cut frames, garbage), which a position-dependent 32-bit check does.
//
//   w_1 .. w_n   the bytes as little-endian u64 words, the last one zero-padded
//   a = Σ w_i,  b = Σ (a after each word)            (mod 2^64)
//   x = a ^ (b · 0x9E3779B97F4A7C15),  checksum = low 32 bits of (x ^ (x >> 32))
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ruprobes/error.hpp"

namespace ruprobes::wire {

uint32_t word_checksum(std::span<const uint8_t> data);

} // namespace ruprobes::wire
