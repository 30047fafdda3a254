#include "ruprobes_test/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace ruprobes::test {

temp_dir::temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "ruprobes-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("temp_dir: mkdtemp failed");
    }
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

} // namespace ruprobes::test
