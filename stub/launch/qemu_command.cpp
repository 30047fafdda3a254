#include "launch/qemu_command.hpp"

namespace ruprobes::launch {

std::vector<std::string> qemu_command(const qemu_options& options) {
    std::vector<std::string> argv = {
        options.qemu,
        "-machine",
        "virt",
        "-cpu",
        "rv64",
        "-smp",
        std::to_string(options.harts),
        "-m",
        options.memory,
        "-nographic",
        "-bios",
        "default",
        "-kernel",
        options.kernel,
        "-global",
        "virtio-mmio.force-legacy=false",
    };
    if (!options.append.empty()) {
        argv.insert(argv.end(), {"-append", options.append});
    }
    if (!options.agent_socket.empty()) {
        argv.insert(argv.end(),
                    {"-device", "virtio-serial-device", "-chardev",
                     "socket,id=agent,path=" + options.agent_socket + ",server=on,wait=off",
                     "-device", "virtconsole,chardev=agent,name=ruprobes.agent"});
    }
    if (!options.gdb_listen.empty()) {
        argv.insert(argv.end(), {"-gdb", options.gdb_listen});
        if (options.gdb_wait) {
            argv.push_back("-S");
        }
    }
    argv.insert(argv.end(), options.extra.begin(), options.extra.end());
    return argv;
}

} // namespace ruprobes::launch
