#include "ruprobes_test/qemu_guest.hpp"

#include "launch/qemu_command.hpp"
#include "ruprobes_test/paths.hpp"

namespace ruprobes::test {

qemu_guest::qemu_guest(const temp_dir& dir, guest_options options) {
    launch::qemu_options q;
    q.kernel = kernel_elf;
    q.append = options.append;
    if (options.agent_channel) {
        agent_socket_ = dir.file("agent.sock");
        q.agent_socket = agent_socket_;
    }
    q.gdb_listen = options.gdb_listen;
    q.gdb_wait = options.gdb_wait;
    q.harts = options.harts;
    q.extra = options.extra;
    argv_ = launch::qemu_command(q);
    spawn_options spawn;
    spawn.argv = argv_;
    spawn.output_file = dir.file("console.log");
    process_ = std::make_unique<child_process>(std::move(spawn));
}

} // namespace ruprobes::test
