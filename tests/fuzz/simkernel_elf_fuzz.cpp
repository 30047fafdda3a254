// The simulated kernel's program loader (kernel-port/sim/program_store.cpp) on arbitrary files:
// the checks, the loading into an address space, reads of the text and symbol lookups never
// crash, never read outside the file and never allocate beyond the loader's bounds.
#include "program_store.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto image = sim::program_store::parse("/bin/fuzz", std::vector<uint8_t>(data, data + size));
    if (!image) {
        return 0;
    }
    sim::address_space as;
    if (sim::program_store::load(*image, as) == nullptr) {
        uint8_t text[64];
        const uint64_t len = image->text_end - image->text_begin < sizeof text
                                 ? image->text_end - image->text_begin
                                 : sizeof text;
        (void)sim::program_store::read(*image, image->text_begin, text, len);
        (void)as.read(image->entry, text, 4, sim::perm::exec);
    }
    (void)sim::program_store::symbol(*image, "main");
    return 0;
}
