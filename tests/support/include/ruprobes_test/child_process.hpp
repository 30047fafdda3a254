// A program started by a test: output captured to a file, waited on with deadlines, and killed by
// pid (its whole process group) when the object goes away — also when the test fails.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace ruprobes::test {

struct spawn_options {
    std::vector<std::string> argv; // argv[0] is looked up in PATH
    std::string output_file;       // stdout and stderr go here (created or truncated)
    bool stdin_pipe = false;       // false: stdin is /dev/null
    std::vector<std::string> env;  // extra "NAME=value" entries
    std::string cwd;               // empty: the test's own
};

// The first group of `pattern`'s first match in `text` (the whole match when it has none), or
// nothing when it does not match.
std::optional<std::string> first_match(const std::string& text, const std::regex& pattern);

class child_process {
public:
    // Starts the program; throws std::runtime_error when it cannot be started.
    explicit child_process(spawn_options options);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }

    // Everything the program has written so far.
    std::string output() const;

    // Waits until the output contains `needle`; false when the deadline passes or the program
    // exits without writing it.
    bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) const;

    // Waits until the output matches `pattern` and returns its first group (the whole match when
    // it has none); nothing as wait_for_output's false. A line may arrive in pieces: give the
    // pattern text after the group, so that "pid 1" of "pid 12 spinning" is not taken.
    std::optional<std::string> wait_for_match(const std::regex& pattern,
                                              std::chrono::milliseconds timeout) const;

    // Waits for the program to exit: its exit code, 128 + signal number when killed by a
    // signal, or nothing when the deadline passes.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    bool running();

    void write_stdin(std::string_view data);
    void close_stdin();

    // SIGTERM, then SIGKILL after `grace`; reaps the process. Safe to call twice.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

    // Sends `signal` to the program (not its group).
    void signal(int signal);

private:
    using output_test = std::function<std::optional<std::string>(const std::string&)>;
    std::optional<std::string> wait_for(const output_test& found,
                                        std::chrono::milliseconds timeout) const;
    bool has_exited() const;
    spawn_options options_;
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    std::optional<int> status_;
};

} // namespace ruprobes::test
