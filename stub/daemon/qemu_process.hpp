// QEMU started by `ruprobesd --launch`: its console goes to a log file, it is stopped by pid when
// the daemon exits, and it dies with the daemon when the daemon is killed or crashes
// (PR_SET_PDEATHSIG).
#pragma once

#include "launch/qemu_command.hpp"

#include <string>
#include <sys/types.h>

namespace ruprobes::daemon {

class qemu_process {
public:
    // Starts QEMU with `options` (launch::qemu_command), stdout and stderr to `log_file`.
    // Throws std::runtime_error when it cannot be started.
    qemu_process(const launch::qemu_options& options, const std::string& log_file);
    ~qemu_process();
    qemu_process(const qemu_process&) = delete;
    qemu_process& operator=(const qemu_process&) = delete;

    pid_t pid() const { return pid_; }
    // True while QEMU runs (reaps it when it has exited).
    bool running();
    // SIGTERM, then SIGKILL after two seconds; safe to call twice.
    void stop();

private:
    pid_t pid_ = -1;
};

} // namespace ruprobes::daemon
