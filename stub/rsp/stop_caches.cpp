#include "rsp/stop_caches.hpp"

namespace ruprobes::rsp {

std::optional<std::vector<uint8_t>> memory_cache::lookup(uint64_t addr, uint64_t len) const {
    std::vector<uint8_t> out;
    out.reserve(len);
    uint64_t at = addr;
    while (at - addr < len) {
        auto it = blocks_.find(block_of(at));
        if (it == blocks_.end())
            return std::nullopt;
        uint64_t off = at - it->first;
        uint64_t n = std::min<uint64_t>(block_size - off, len - (at - addr));
        out.insert(out.end(), it->second.begin() + off, it->second.begin() + off + n);
        at += n;
        if (at == 0) // wrapped around the address space
            break;
    }
    if (out.size() != len)
        return std::nullopt;
    return out;
}

void memory_cache::store(uint64_t block, std::vector<uint8_t> bytes) {
    if (bytes.size() == block_size && block_of(block) == block)
        blocks_[block] = std::move(bytes);
}

std::vector<uint64_t> deferred_removals::due(bool single_step) {
    if (single_step)
        return {};
    std::vector<uint64_t> out(pending_.begin(), pending_.end());
    pending_.clear();
    return out;
}

} // namespace ruprobes::rsp
