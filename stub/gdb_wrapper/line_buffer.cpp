#include "gdb_wrapper/line_buffer.hpp"

namespace ruprobes::gdb_wrapper {

std::string line_buffer::take_lines(std::string_view bytes) {
    partial_.append(bytes);
    size_t end = partial_.rfind('\n');
    if (end == std::string::npos) {
        if (partial_.size() < max_partial)
            return {};
        return take_rest();
    }
    std::string lines = partial_.substr(0, end + 1);
    partial_.erase(0, end + 1);
    return lines;
}

std::string line_buffer::take_rest() {
    std::string rest;
    rest.swap(partial_);
    return rest;
}

} // namespace ruprobes::gdb_wrapper
