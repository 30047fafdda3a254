// rpc_fake_server: the JSON-RPC server of ruprobesd over the target model's fake kernel, for the
// integration tests and for trying clients without QEMU. Prints "listening on PORT" when ready.
//
//   rpc_fake_server [--port N] [--symbols DIR] [--elf-program NAME]... [--event-queue N]
//                   [--send-buffer BYTES] [--max-message BYTES] [--write-timeout-ms N]
//
// --elf-program NAME adds /bin/NAME to the fake kernel with the executable sections of
// DIR/NAME, so that probes resolved through that ELF's symbols land in the fake's text.
// SIGUSR1 makes the fake kernel go away (target.disconnected), SIGUSR2 brings it back with a new
// boot (target.connected).
#include "rpc/rpc_server.hpp"
#include "symbols/symbol_store.hpp"
#include "target_model/fake_backend.hpp"
#include "target_model/target_model.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace ruprobes;
    uint16_t port = 0;
    std::string symbols_dir = ".";
    std::vector<std::string> elf_programs;
    rpc::rpc_options options;
    for (int i = 1; i < argc; i++) {
        auto arg = [&](const char* name) {
            if (std::strcmp(argv[i], name) != 0 || i + 1 >= argc)
                return false;
            return true;
        };
        if (arg("--port"))
            port = static_cast<uint16_t>(std::atoi(argv[++i]));
        else if (arg("--symbols"))
            symbols_dir = argv[++i];
        else if (arg("--elf-program"))
            elf_programs.push_back(argv[++i]);
        else if (arg("--event-queue"))
            options.event_queue = std::strtoull(argv[++i], nullptr, 0);
        else if (arg("--send-buffer"))
            options.send_buffer = std::atoi(argv[++i]);
        else if (arg("--max-message"))
            options.max_message = std::strtoull(argv[++i], nullptr, 0);
        else if (arg("--write-timeout-ms"))
            options.limits.write_timeout = std::chrono::milliseconds(std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "rpc_fake_server: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    spdlog::set_level(spdlog::level::warn);

    symbols::symbol_store store(symbols_dir);
    std::vector<target::fake_program> programs = target::fake_programs();
    for (const std::string& name : elf_programs) {
        auto loaded = store.program("/bin/" + name);
        if (!loaded) {
            std::fprintf(stderr, "rpc_fake_server: %s\n", loaded.error().message.c_str());
            return 2;
        }
        const auto& syms = **loaded;
        for (const auto& [base, bytes] : syms.text_sections())
            programs.push_back({"/bin/" + name, base, bytes, syms.entry()});
    }

    boost::asio::io_context io;
    target::fake_backend backend(io.get_executor(), programs);
    target::target_model model(backend);
    // As ruprobesd does: work the model starts by itself (arming trace probes again in a new
    // kernel) runs on the io_context.
    model.set_spawner([&io](task<void> work) {
        boost::asio::co_spawn(io, std::move(work), boost::asio::detached);
    });
    rpc::rpc_server server(io, model, store, options);
    std::string error;
    uint16_t bound = server.listen("127.0.0.1", port, error);
    if (!bound) {
        std::fprintf(stderr, "rpc_fake_server: %s\n", error.c_str());
        return 1;
    }
    std::printf("listening on %u\n", bound);
    std::fflush(stdout);
    boost::asio::signal_set controls(io, SIGUSR1, SIGUSR2);
    std::function<void()> watch_controls = [&] {
        controls.async_wait([&](const boost::system::error_code& ec, int signo) {
            if (ec)
                return;
            if (signo == SIGUSR1)
                backend.disconnect("test: SIGUSR1");
            else
                backend.reconnect();
            watch_controls();
        });
    };
    watch_controls();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.stop();
        controls.cancel();
        io.stop();
    });
    io.run();
    return 0;
}
