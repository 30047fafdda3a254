// The data of a trace frame (protocol/README.md §3, trace_frame_read): blocks back to back, each
// a tag byte (trace_block_*) and its fields, little-endian, unaligned. Freestanding: the kernel
// writes frames in this layout and the daemon reads them with trace_block_reader.
#pragma once

#include "ruprobes/wire/message_types.hpp"

namespace ruprobes::wire {

struct trace_block {
    uint8_t tag = 0;                    // trace_block_registers / _memory / _variable
    const uint8_t* registers = nullptr; // registers: 33 little-endian u64 (x0..x31, pc)
    uint64_t address = 0;               // memory
    bytes memory;                       // memory: the bytes at `address`
    uint32_t number = 0;                // variable
    uint64_t value = 0;                 // variable
};

// Reads the blocks of a frame's data one by one. A truncated block or an unknown tag ends the
// reading with failed().
class trace_block_reader {
public:
    explicit trace_block_reader(bytes data) : rest_(data) {}

    std::optional<trace_block> next() {
        if (rest_.empty() || failed_) {
            return std::nullopt;
        }
        trace_block b{};
        b.tag = rest_[0];
        size_t need = 1;
        if (b.tag == trace_block_registers) {
            need = trace_registers_block_size;
            if (rest_.size() < need)
                return fail();
            b.registers = rest_.data() + 1;
        } else if (b.tag == trace_block_memory) {
            if (rest_.size() < 11)
                return fail();
            b.address = le(1, 8);
            size_t len = static_cast<size_t>(le(9, 2));
            need = 11 + len;
            if (rest_.size() < need)
                return fail();
            b.memory = rest_.subspan(11, len);
        } else if (b.tag == trace_block_variable) {
            need = 13;
            if (rest_.size() < need)
                return fail();
            b.number = static_cast<uint32_t>(le(1, 4));
            b.value = le(5, 8);
        } else {
            return fail();
        }
        rest_ = rest_.subspan(need);
        return b;
    }
    bool failed() const { return failed_; }

    // Register `i` (0..32) of a registers block.
    static uint64_t register_value(const trace_block& b, int i) {
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--)
            v = (v << 8) | b.registers[8 * i + k];
        return v;
    }

private:
    std::optional<trace_block> fail() {
        failed_ = true;
        return std::nullopt;
    }
    uint64_t le(size_t at, size_t n) const {
        uint64_t v = 0;
        for (size_t k = n; k-- > 0;)
            v = (v << 8) | rest_[at + k];
        return v;
    }
    bytes rest_;
    bool failed_ = false;
};

} // namespace ruprobes::wire
