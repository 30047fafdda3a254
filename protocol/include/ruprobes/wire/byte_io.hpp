// Little-endian, unaligned field access over caller buffers (protocol/README.md §2), in two
// directions that share one interface so a message describes its layout once:
//
//   template <typename Io> void io(Io& s) { s.field(pid); s.len16(path); s.field(address);
//                                           s.data(path); }
//
// byte_writer serialises the fields in that order, byte_reader parses them. Neither allocates nor
// throws: running out of room (writer) or of input (reader) sets a sticky failure flag and later
// fields become no-ops; callers check ok() once at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "ruprobes/error.hpp"

namespace ruprobes::wire {

class byte_writer {
public:
    explicit byte_writer(std::span<uint8_t> out) : out_(out) {}

    static constexpr bool writing = true;

    void field(uint8_t v) { put(v, 1); }
    void field(uint16_t v) { put(v, 2); }
    void field(uint32_t v) { put(v, 4); }
    void field(uint64_t v) { put(v, 8); }
    void field(int32_t v) { put(static_cast<uint32_t>(v), 4); }
    template <size_t N>
    void field(const std::array<uint64_t, N>& values) {
        for (uint64_t v : values) {
            put(v, 8);
        }
    }
    // The length of a variable field whose bytes follow later (data()).
    void len16(std::span<const uint8_t> bytes) {
        if (bytes.size() > 0xFFFF) {
            failed_ = true;
            return;
        }
        put(bytes.size(), 2);
    }
    void len32(std::span<const uint8_t> bytes) { put(bytes.size(), 4); }
    void data(std::span<const uint8_t> bytes) {
        if (!reserve(bytes.size())) {
            return;
        }
        if (!bytes.empty()) {
            __builtin_memcpy(out_.data() + size_, bytes.data(), bytes.size());
        }
        size_ += bytes.size();
    }
    // `n` zero bytes (reserved fields).
    void zeros(size_t n) {
        if (!reserve(n)) {
            return;
        }
        for (size_t i = 0; i < n; i++) {
            out_[size_ + i] = 0;
        }
        size_ += n;
    }

    // Overwrites `n` bytes at `offset` (a count written before the entries it counts).
    void patch(size_t offset, uint64_t v, size_t n) {
        if (failed_ || offset > size_ || n > size_ - offset) {
            failed_ = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            out_[offset + i] = static_cast<uint8_t>(v >> (8 * i));
        }
    }

    bool ok() const { return !failed_; }
    size_t size() const { return size_; }
    std::span<uint8_t> written() const { return out_.first(size_); }

private:
    bool reserve(size_t n) {
        if (failed_ || n > out_.size() - size_) {
            failed_ = true;
            return false;
        }
        return true;
    }
    void put(uint64_t v, size_t n) {
        if (!reserve(n)) {
            return;
        }
        for (size_t i = 0; i < n; i++) {
            out_[size_ + i] = static_cast<uint8_t>(v >> (8 * i));
        }
        size_ += n;
    }

    std::span<uint8_t> out_;
    size_t size_ = 0;
    bool failed_ = false;
};

class byte_reader {
public:
    explicit byte_reader(std::span<const uint8_t> in) : in_(in) {}

    static constexpr bool writing = false;

    void field(uint8_t& v) { v = static_cast<uint8_t>(get(1)); }
    void field(uint16_t& v) { v = static_cast<uint16_t>(get(2)); }
    void field(uint32_t& v) { v = static_cast<uint32_t>(get(4)); }
    void field(uint64_t& v) { v = get(8); }
    void field(int32_t& v) { v = static_cast<int32_t>(static_cast<uint32_t>(get(4))); }
    template <size_t N>
    void field(std::array<uint64_t, N>& values) {
        for (uint64_t& v : values) {
            v = get(8);
        }
    }
    // Reads a length; the matching data() call (in the same order) takes that many bytes.
    void len16(std::span<const uint8_t>&) { push_length(get(2)); }
    void len32(std::span<const uint8_t>&) { push_length(get(4)); }
    void data(std::span<const uint8_t>& bytes) {
        size_t n = pop_length();
        if (failed_ || n > in_.size() - pos_) {
            failed_ = true;
            bytes = {};
            return;
        }
        bytes = in_.subspan(pos_, n);
        pos_ += n;
    }
    void zeros(size_t n) {
        if (failed_ || n > in_.size() - pos_) {
            failed_ = true;
            return;
        }
        pos_ += n;
    }

    bool ok() const { return !failed_; }
    size_t position() const { return pos_; }
    size_t remaining() const { return in_.size() - pos_; }

private:
    uint64_t get(size_t n) {
        if (failed_ || n > in_.size() - pos_) {
            failed_ = true;
            return 0;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            v |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
        }
        pos_ += n;
        return v;
    }
    void push_length(uint64_t n) {
        if (pending_count_ == pending_.size()) {
            failed_ = true;
            return;
        }
        pending_[(pending_first_ + pending_count_) % pending_.size()] = static_cast<size_t>(n);
        pending_count_++;
    }
    size_t pop_length() {
        if (pending_count_ == 0) {
            failed_ = true;
            return 0;
        }
        size_t n = pending_[pending_first_];
        pending_first_ = (pending_first_ + 1) % pending_.size();
        pending_count_--;
        return n;
    }

    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    bool failed_ = false;
    std::array<size_t, 4> pending_{};
    size_t pending_first_ = 0;
    size_t pending_count_ = 0;
};

} // namespace ruprobes::wire
