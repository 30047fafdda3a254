#include "gdb_session.hpp"

#include <fstream>
#include <sstream>
#include <thread>

namespace ruprobes::test {

std::string daemon_with_guest::console() const {
    std::ifstream in(console_file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

namespace {

// Calls `found` every 50 ms until it holds or `timeout` passes.
template <class Found>
bool poll(const Found& found, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (!found()) {
        if (std::chrono::steady_clock::now() >= until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

} // namespace

bool daemon_with_guest::wait_for_console(const std::string& needle,
                                         std::chrono::milliseconds timeout) const {
    return poll([&] { return console().find(needle) != std::string::npos; }, timeout);
}

std::optional<std::string>
daemon_with_guest::wait_for_console_match(const std::regex& pattern,
                                          std::chrono::milliseconds timeout) const {
    std::optional<std::string> found;
    poll(
        [&] {
            found = first_match(console(), pattern);
            return found.has_value();
        },
        timeout);
    return found;
}

std::vector<std::string> gdb_batch_argv(const std::string& program,
                                        const std::vector<std::string>& commands) {
    std::vector<std::string> argv = {"gdb-multiarch",      "-nx", "-batch",         "-ex",
                                     "set pagination off", "-ex", "set confirm off"};
    if (!program.empty())
        argv.push_back(std::string(user_dir) + "/" + program);
    for (const auto& c : commands) {
        argv.push_back("-ex");
        argv.push_back(c);
    }
    return argv;
}

std::string run_gdb(const temp_dir& dir, const std::string& name, const std::string& program,
                    const std::vector<std::string>& commands) {
    spawn_options o;
    o.argv = gdb_batch_argv(program, commands);
    o.output_file = dir.file(name + ".log");
    child_process gdb(o);
    auto code = gdb.wait_exit(std::chrono::seconds(60));
    EXPECT_TRUE(code.has_value()) << "gdb did not finish:\n" << gdb.output();
    return gdb.output();
}

} // namespace ruprobes::test
