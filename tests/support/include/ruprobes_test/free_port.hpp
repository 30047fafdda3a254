// A TCP port on 127.0.0.1 that nothing listens on right now (asked of the OS with port 0), for
// programs under test that must be told a port on their command line.
#pragma once

#include <cstdint>

namespace ruprobes::test {

uint16_t free_tcp_port();

} // namespace ruprobes::test
