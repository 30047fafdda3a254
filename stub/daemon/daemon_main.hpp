// The daemon from argv to exit code, shared by ruprobesd and ruprobesd-fake: they differ only in
// the flags of their target and the backend they serve (see daemon_kind).
#pragma once

#include "daemon/options.hpp"
#include "target_model/target_backend.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

namespace ruprobes::daemon {

// Builds the backend the daemon serves; `agent_socket` is the unix socket of the kernel's agent
// channel (--qemu-socket, or the one --launch gave QEMU; empty for ruprobesd-fake). Nothing when
// it cannot be built (the reason is logged).
using backend_factory = std::function<std::unique_ptr<target::target_backend>(
    boost::asio::io_context& io, const std::string& agent_socket)>;

// Parses argv for `kind`, then runs the target model, the RSP and JSON-RPC servers on one
// io_context thread until SIGINT or SIGTERM. Returns the exit code: 0 after a signal, --help or
// --version; 1 when a server cannot listen or QEMU cannot start; 2 on a bad command line.
int daemon_main(int argc, char** argv, daemon_kind kind, const backend_factory& make_backend);

} // namespace ruprobes::daemon
