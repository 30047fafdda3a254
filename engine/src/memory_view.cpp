// Memory views for debuggers: reads show the original bytes under armed breakpoints and the real
// return addresses where return probes put the trampoline; writes under a breakpoint update the
// saved original and keep the breakpoint.
#include "ruprobes/engine.hpp"
#include "ruprobes/port.hpp"

namespace ruprobes {

namespace {

// Calls fn(site) for every site of `prog` whose bytes (in a process with load bias `bias`)
// overlap [addr, addr + len). Debugger accesses are rare and small: a walk of the program's
// sites is enough.
template <typename Fn>
void for_overlapping_sites(const program_rec& prog, const site_rec* sites, uint64_t bias,
                           uint64_t addr, size_t len, Fn&& fn) {
    for (uint32_t s = prog.site_head; s != nil; s = sites[s].next_in_program) {
        uint64_t at = bias + sites[s].addr;
        if (at < addr + len && at + sites[s].insn.length > addr)
            fn(sites[s]);
    }
}

} // namespace

result<void> engine::read_memory(uint32_t pid, uint64_t addr, uint8_t* dst, size_t len) {
    if (len == 0)
        return {};
    if (os_copy_from_user(pid, dst, addr, len) != 0)
        return error::fault_load;
    process_rec* proc = ready_ ? find_process(pid) : nullptr;
    if (proc == nullptr)
        return {};
    for_overlapping_sites(programs_[proc->program], sites_, proc->bias, addr, len,
                          [&](const site_rec& site) {
                              uint64_t at = proc->bias + site.addr;
                              result<uint32_t> now = peek_text(pid, at, site.insn.length);
                              if (!now.ok() || *now != breakpoint_for(site.insn.length))
                                  return;
                              uint8_t original[4];
                              store_le(original, site.insn.raw, site.insn.length);
                              for (uint8_t i = 0; i < site.insn.length; i++) {
                                  if (at + i >= addr && at + i < addr + len)
                                      dst[at + i - addr] = original[i];
                              }
                          });
    // Saved return addresses that return probes replaced by the trampoline (what a debugger's
    // unwinder reads from the stack): the real ones.
    if (proc->xol != 0 && proc->thread_head != nil) {
        for (uint64_t at = (addr + 7) & ~uint64_t{7}; at + 8 <= addr + len && at >= addr; at += 8) {
            uint8_t* word = dst + (at - addr);
            uint64_t value = 0;
            for (int i = 0; i < 8; i++)
                value |= uint64_t{word[i]} << (8 * i);
            if (value != proc->xol)
                continue;
            uint64_t real = saved_return_address(*proc, at);
            if (real != 0)
                store_le(word, real, 8);
        }
    }
    return {};
}

result<void> engine::write_memory(uint32_t pid, uint64_t addr, const uint8_t* src, size_t len) {
    if (len == 0)
        return {};
    process_rec* proc = ready_ ? find_process(pid) : nullptr;
    bool touches_site = false;
    error refused = error::ok;
    if (proc != nullptr) {
        // First pass: check that every breakpoint the write covers can take the new bytes.
        for_overlapping_sites(programs_[proc->program], sites_, proc->bias, addr, len,
                              [&](const site_rec& site) {
                                  uint64_t at = proc->bias + site.addr;
                                  result<uint32_t> now = peek_text(pid, at, site.insn.length);
                                  if (!now.ok() || *now != breakpoint_for(site.insn.length))
                                      return;
                                  touches_site = true;
                                  uint8_t bytes[4];
                                  store_le(bytes, site.insn.raw, site.insn.length);
                                  for (uint8_t i = 0; i < site.insn.length; i++) {
                                      if (at + i >= addr && at + i < addr + len)
                                          bytes[i] = src[at + i - addr];
                                  }
                                  decoded_insn d = decode_bits(load_le(bytes, site.insn.length));
                                  if (d.length != site.insn.length)
                                      refused = error::invalid_argument;
                                  else if (d.cls == insn_class::refuse)
                                      refused = d.refusal;
                              });
    }
    if (refused != error::ok)
        return refused;
    if (!touches_site && os_copy_to_user(pid, addr, src, len) == 0)
        return {};

    // Text (or a write under breakpoints): byte by byte through the poke hook, in chunks, with
    // the bytes under armed breakpoints diverted into the saved originals.
    uint8_t chunk[16];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = src[done + i];
        uint64_t at = addr + done;
        if (proc != nullptr) {
            for_overlapping_sites(programs_[proc->program], sites_, proc->bias, at, n,
                                  [&](const site_rec& cs) {
                                      site_rec& site = const_cast<site_rec&>(cs);
                                      uint64_t sat = proc->bias + site.addr;
                                      result<uint32_t> now = peek_text(pid, sat, site.insn.length);
                                      if (!now.ok() || *now != breakpoint_for(site.insn.length))
                                          return;
                                      uint8_t bytes[4];
                                      uint8_t bp[4];
                                      store_le(bytes, site.insn.raw, site.insn.length);
                                      store_le(bp, *now, site.insn.length);
                                      for (uint8_t i = 0; i < site.insn.length; i++) {
                                          if (sat + i >= at && sat + i < at + n) {
                                              bytes[i] = chunk[sat + i - at];
                                              chunk[sat + i - at] = bp[i];
                                          }
                                      }
                                      site.insn = decode_bits(load_le(bytes, site.insn.length));
                                      refresh_hot(static_cast<uint32_t>(&site - sites_));
                                  });
        }
        if (os_text_poke(pid, at, chunk, n) != 0)
            return error::fault_store;
        os_icache_flush(pid, at, n);
        done += n;
    }
    return {};
}

} // namespace ruprobes
