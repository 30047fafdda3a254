// ruprobesd: the host daemon (GDB Remote Serial Protocol + JSON-RPC 2.0 front ends for the
// in-kernel uprobe engine), serving a real kernel over its agent channel.
#include "daemon/daemon_main.hpp"
#include "target_model/channel_backend.hpp"

namespace {

using namespace ruprobes;

// The backend over the channel to a real kernel: connects in the background and reconnects
// whenever the kernel restarts.
std::unique_ptr<target::target_backend> make_channel_backend(boost::asio::io_context& io,
                                                             const std::string& agent_socket) {
    auto backend = std::make_unique<target::channel_backend>(
        io, target::channel_backend_options{agent_socket, std::chrono::milliseconds(5000),
                                            std::chrono::milliseconds(5000)});
    backend->start();
    return backend;
}

} // namespace

int main(int argc, char** argv) {
    return daemon::daemon_main(argc, argv, daemon::daemon_kind::kernel, make_channel_backend);
}
