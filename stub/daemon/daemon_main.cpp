// One io_context thread runs everything: the target backend, the target model, the RSP server
// and the JSON-RPC server.
#include "daemon/daemon_main.hpp"

#include "daemon/qemu_process.hpp"
#include "rpc/rpc_server.hpp"
#include "rsp/rsp_server.hpp"
#include "symbols/symbol_store.hpp"
#include "target_model/target_model.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <unistd.h>

namespace ruprobes::daemon {
namespace {

namespace net = boost::asio;

// Parses the command line. The exit code when the daemon is done already (a bad command line,
// --help, --version); nothing when it should run with `options`.
std::optional<int> answer_command_line(int argc, char** argv, daemon_kind kind,
                                       daemon_options& options) {
    std::string error;
    auto parsed = parse_options(argc, argv, error, kind);
    if (!parsed) {
        std::fprintf(stderr, "%s: %s\n", program_name(kind), error.c_str());
        std::fprintf(stderr, "Try '%s --help'.\n", program_name(kind));
        return 2;
    }
    if (parsed->help) {
        print_help(stdout, kind);
        return 0;
    }
    if (parsed->version) {
        std::printf("%s %s\n", program_name(kind), RUPROBES_VERSION);
        return 0;
    }
    options = std::move(*parsed);
    return std::nullopt;
}

void start_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("ruprobesd");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
}

std::string temp_file(const std::string& name) {
    return (std::filesystem::temp_directory_path() / name).string();
}

// Starts QEMU for --launch, its agent channel on `agent_socket` (a temp path when empty).
// Nothing when QEMU cannot start (logged).
std::optional<std::unique_ptr<qemu_process>> launch_qemu(const daemon_options& options,
                                                         std::string& agent_socket) {
    std::string pid = std::to_string(getpid());
    if (agent_socket.empty())
        agent_socket = temp_file("ruprobesd-" + pid + ".sock");
    std::string log =
        options.qemu_log.empty() ? temp_file("ruprobesd-qemu-" + pid + ".log") : options.qemu_log;
    launch::qemu_options q;
    q.kernel = options.launch_kernel;
    q.agent_socket = agent_socket;
    q.append = options.append;
    q.extra = options.qemu_args;
    q.harts = options.harts;
    try {
        auto qemu = std::make_unique<qemu_process>(q, log);
        spdlog::info("QEMU started (pid {}), console log {}, agent socket {}", qemu->pid(), log,
                     agent_socket);
        return qemu;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return std::nullopt;
    }
}

std::string default_symbols_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        return "build/guest/user";
    return (exe.parent_path().parent_path() / "guest" / "user").string();
}

// gdb's reads of program text come from the host copies when there are some: the fake kernel's
// programs have none, so ruprobesd-fake answers them from its own memory.
rsp::session_options rsp_options_for(const daemon_options& options, daemon_kind kind,
                                     symbols::symbol_store& symbols) {
    rsp::session_options rsp_options;
    rsp_options.ready_timeout = std::chrono::seconds(options.ready_timeout_s);
    rsp_options.host_step = options.host_step;
    if (kind == daemon_kind::fake_kernel)
        return rsp_options;
    rsp_options.read_text = [&symbols](const std::string& program, uint64_t addr,
                                       uint64_t len) -> std::optional<std::vector<uint8_t>> {
        auto found = symbols.program(program);
        if (!found || !*found)
            return std::nullopt;
        auto text = (*found)->text_at(addr);
        if (text.size() < len)
            return std::nullopt;
        return std::vector<uint8_t>(text.begin(), text.begin() + len);
    };
    return rsp_options;
}

net::ip::tcp::endpoint endpoint_of(const listen_address& a) {
    std::string host = a.host == "localhost" ? "127.0.0.1" : a.host;
    return {net::ip::make_address(host), a.port};
}

// The listening RSP server; nothing when it cannot listen (logged).
std::unique_ptr<rsp::rsp_server> start_rsp_server(net::io_context& io,
                                                  const daemon_options& options,
                                                  target::target_model& model,
                                                  const rsp::session_options& rsp_options) {
    try {
        auto server =
            std::make_unique<rsp::rsp_server>(io.get_executor(), endpoint_of(options.rsp), model,
                                              rsp_options, options.spawn, options.limits);
        server->start();
        return server;
    } catch (const std::exception& e) {
        spdlog::error("cannot listen for RSP on {}:{}: {}", options.rsp.host, options.rsp.port,
                      e.what());
        return nullptr;
    }
}

// The listening JSON-RPC server; nothing when it cannot listen (logged).
std::unique_ptr<rpc::rpc_server> start_rpc_server(net::io_context& io,
                                                  const daemon_options& options,
                                                  target::target_model& model,
                                                  symbols::symbol_store& symbols) {
    rpc::rpc_options rpc_options;
    rpc_options.limits = options.limits;
    auto server = std::make_unique<rpc::rpc_server>(io, model, symbols, rpc_options);
    std::string error;
    uint16_t port = server->listen(options.rpc.host, options.rpc.port, error);
    if (port == 0) {
        spdlog::error("cannot listen for JSON-RPC on {}:{}: {}", options.rpc.host, options.rpc.port,
                      error);
        return nullptr;
    }
    spdlog::info("JSON-RPC server listening on {}:{}", options.rpc.host, port);
    return server;
}

// Serves until SIGINT or SIGTERM, then stops both servers.
void run_until_signal(net::io_context& io, rsp::rsp_server& rsp_server,
                      rpc::rpc_server* rpc_server) {
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec)
            return;
        spdlog::info("signal {}: shutting down", signo);
        rsp_server.stop();
        if (rpc_server)
            rpc_server->stop();
        io.stop();
    });
    io.run();
}

// Everything that runs on the io_context, from the backend to the servers. The exit code.
int serve(net::io_context& io, const daemon_options& options, daemon_kind kind,
          const backend_factory& make_backend, const std::string& agent_socket) {
    auto backend = make_backend(io, agent_socket);
    if (!backend)
        return 1;
    target::target_model model(*backend);
    model.set_spawner(
        [&io](task<void> work) { net::co_spawn(io, std::move(work), net::detached); });

    // Host copies of the guest's programs: symbols for JSON-RPC, original text for gdb's reads.
    symbols::symbol_store symbols(options.symbols_dir.empty() ? default_symbols_dir()
                                                              : options.symbols_dir);
    auto rsp_server = start_rsp_server(io, options, model, rsp_options_for(options, kind, symbols));
    if (!rsp_server)
        return 1;
    std::unique_ptr<rpc::rpc_server> rpc_server;
    if (options.rpc_enabled) {
        rpc_server = start_rpc_server(io, options, model, symbols);
        if (!rpc_server)
            return 1;
    }
    run_until_signal(io, *rsp_server, rpc_server.get());
    return 0;
}

} // namespace

int daemon_main(int argc, char** argv, daemon_kind kind, const backend_factory& make_backend) {
    daemon_options options;
    if (auto done = answer_command_line(argc, argv, kind, options))
        return *done;
    start_logging(options.log_level);

    std::string agent_socket = options.qemu_socket;
    std::unique_ptr<qemu_process> qemu;
    if (!options.launch_kernel.empty()) {
        auto launched = launch_qemu(options, agent_socket);
        if (!launched)
            return 1;
        qemu = std::move(*launched);
    }
    int exit_code;
    {
        net::io_context io(1);
        exit_code = serve(io, options, kind, make_backend, agent_socket);
    }
    if (qemu)
        qemu->stop();
    return exit_code;
}

} // namespace ruprobes::daemon
