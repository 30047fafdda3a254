// Whole lines out of a byte stream: what ruprobes-gdb writes is always one or more complete
// lines, however gdb split them into writes. gdb 13 writes an MI reply's token and the rest of
// its record separately; adapters that parse each read on its own (Native Debug) lose the reply.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ruprobes::gdb_wrapper {

class line_buffer {
public:
    // A line longer than this is passed on in pieces (memory stays bounded).
    static constexpr size_t max_partial = 1 << 20;

    // Adds bytes; returns what may be written now: every complete line so far (empty when the
    // bytes end inside a line), or the partial line once it outgrows max_partial.
    std::string take_lines(std::string_view bytes);
    // At the end of the stream: the unterminated rest, if any.
    std::string take_rest();

    size_t pending() const { return partial_.size(); }

private:
    std::string partial_;
};

} // namespace ruprobes::gdb_wrapper
