// The QEMU command line that boots the reference kernel with the agent's virtio-console port.
#pragma once

#include <string>
#include <vector>

namespace ruprobes::launch {

struct qemu_options {
    std::string qemu = "qemu-system-riscv64";
    std::string kernel;       // path to kernel.elf
    std::string append;       // kernel command line (-append), empty for the kernel's default
    std::string agent_socket; // unix socket path of the agent's virtio-console; empty: no channel
    std::string memory = "256M";
    unsigned harts = 1;     // -smp: the harts the kernel gets (the reference kernel runs on all)
    std::string gdb_listen; // "tcp:127.0.0.1:PORT" to enable QEMU's own gdbstub, empty: none
    bool gdb_wait = false;  // -S: wait for the gdbstub before running
    std::vector<std::string> extra; // appended verbatim (--qemu-arg)
};

// argv (argv[0] = the QEMU binary) for qemu-system-riscv64 on machine `virt` under OpenSBI.
// The console (kernel log) is QEMU's stdio. virtio-mmio devices are modern (virtio 1.x, version 2):
// -global virtio-mmio.force-legacy=false.
std::vector<std::string> qemu_command(const qemu_options& options);

} // namespace ruprobes::launch
