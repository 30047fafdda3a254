// ruprobesd: the host daemon (GDB Remote Serial Protocol + JSON-RPC 2.0 front ends for the
// in-kernel uprobe engine). One io_context thread runs everything: the target backend, the
// target model, the RSP server and the JSON-RPC server.
#include "daemon/options.hpp"
#include "daemon/qemu_process.hpp"
#include "rsp/rsp_server.hpp"
#include "target/channel_backend.hpp"
#include "target/fake_backend.hpp"
#include "target/target_model.hpp"

#ifdef RUPROBES_HAVE_RPC
#include "rpc/rpc_server.hpp"
#include "symbols/symbol_store.hpp"
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace {

namespace net = boost::asio;
using namespace ruprobes;

std::string default_symbols_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        return "build/guest/user";
    return (exe.parent_path().parent_path() / "guest" / "user").string();
}

net::ip::tcp::endpoint endpoint_of(const daemon::listen_address& a) {
    std::string host = a.host == "localhost" ? "127.0.0.1" : a.host;
    return {net::ip::make_address(host), a.port};
}

// The backend over the channel to a real kernel: connects in the background and reconnects
// whenever QEMU restarts.
std::unique_ptr<target::target_backend> make_channel_backend(net::io_context& io,
                                                             const std::string& socket_path) {
    auto backend = std::make_unique<target::channel_backend>(
        io, target::channel_backend_options{socket_path, std::chrono::milliseconds(5000),
                                            std::chrono::milliseconds(5000)});
    backend->start();
    return backend;
}

} // namespace

int main(int argc, char** argv) {
    std::string error;
    auto options = daemon::parse_options(argc, argv, error);
    if (!options) {
        std::fprintf(stderr, "ruprobesd: %s\n", error.c_str());
        std::fprintf(stderr, "Try 'ruprobesd --help'.\n");
        return 2;
    }
    if (options->help) {
        daemon::print_help(stdout);
        return 0;
    }
    if (options->version) {
        std::printf("ruprobesd %s\n", RUPROBES_VERSION);
        return 0;
    }

    auto logger = spdlog::stderr_color_mt("ruprobesd");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(options->log_level));

    net::io_context io(1);

    std::unique_ptr<daemon::qemu_process> qemu;
    std::string socket_path = options->qemu_socket;
    if (!options->launch_kernel.empty()) {
        if (socket_path.empty())
            socket_path = (std::filesystem::temp_directory_path() /
                           ("ruprobesd-" + std::to_string(getpid()) + ".sock"))
                              .string();
        std::string log = options->qemu_log;
        if (log.empty())
            log = (std::filesystem::temp_directory_path() /
                   ("ruprobesd-qemu-" + std::to_string(getpid()) + ".log"))
                      .string();
        launch::qemu_options q;
        q.kernel = options->launch_kernel;
        q.agent_socket = socket_path;
        q.append = options->append;
        q.extra = options->qemu_args;
        try {
            qemu = std::make_unique<daemon::qemu_process>(q, log);
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return 1;
        }
        spdlog::info("QEMU started (pid {}), console log {}, agent socket {}", qemu->pid(), log,
                     socket_path);
    }

    std::unique_ptr<target::target_backend> backend;
    if (options->fake_target) {
        backend = std::make_unique<target::fake_backend>(io.get_executor());
        spdlog::info("serving the in-memory fake target");
    } else {
        backend = make_channel_backend(io, socket_path);
        if (!backend)
            return 1;
    }
    target::target_model model(*backend);
    model.set_spawner(
        [&io](task<void> work) { net::co_spawn(io, std::move(work), net::detached); });

    // Host copies of the guest's programs: symbols for JSON-RPC, original text for gdb's reads.
    std::string symbols_dir =
        options->symbols_dir.empty() ? default_symbols_dir() : options->symbols_dir;
    symbols::symbol_store symbols(symbols_dir);
    rsp::session_options rsp_options;
    rsp_options.ready_timeout = std::chrono::seconds(options->ready_timeout_s);
    rsp_options.host_step = options->host_step;
    if (!options->fake_target) {
        rsp_options.read_text = [&symbols](const std::string& program, uint64_t addr,
                                           uint64_t len) -> std::optional<std::vector<uint8_t>> {
            auto found = symbols.program(program);
            auto* p = std::get_if<std::shared_ptr<const symbols::program_symbols>>(&found);
            if (!p || !*p)
                return std::nullopt;
            auto text = (*p)->text_at(addr);
            if (text.size() < len)
                return std::nullopt;
            return std::vector<uint8_t>(text.begin(), text.begin() + len);
        };
    }
    std::unique_ptr<rsp::rsp_server> rsp_server;
    try {
        rsp_server =
            std::make_unique<rsp::rsp_server>(io.get_executor(), endpoint_of(options->rsp), model,
                                              rsp_options, options->spawn, options->limits);
    } catch (const std::exception& e) {
        spdlog::error("cannot listen for RSP on {}:{}: {}", options->rsp.host, options->rsp.port,
                      e.what());
        return 1;
    }
    rsp_server->start();

#ifdef RUPROBES_HAVE_RPC
    std::unique_ptr<rpc::rpc_server> rpc_server;
    if (options->rpc_enabled) {
        rpc::rpc_options rpc_options;
        rpc_options.limits = options->limits;
        rpc_server = std::make_unique<rpc::rpc_server>(io, model, symbols, rpc_options);
        std::string rpc_error;
        uint16_t port = rpc_server->listen(options->rpc.host, options->rpc.port, rpc_error);
        if (port == 0) {
            spdlog::error("cannot listen for JSON-RPC on {}:{}: {}", options->rpc.host,
                          options->rpc.port, rpc_error);
            return 1;
        }
        spdlog::info("JSON-RPC server listening on {}:{}", options->rpc.host, port);
    }
#else
    if (options->rpc_enabled)
        spdlog::warn("this build has no JSON-RPC server");
#endif

    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec)
            return;
        spdlog::info("signal {}: shutting down", signo);
        rsp_server->stop();
#ifdef RUPROBES_HAVE_RPC
        if (rpc_server)
            rpc_server->stop();
#endif
        io.stop();
    });

    io.run();
    rsp_server.reset();
    if (qemu)
        qemu->stop();
    return 0;
}
