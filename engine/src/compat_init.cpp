// The seed's per-exec call, in its own object file: only a kernel that calls uprobes_init()
// links it, and only such a kernel has to define os_current_exec_path().
#include "ruprobes/ruprobes.h"

extern "C" int uprobes_init(void) {
    return uprobes_on_exec(os_current_pid(), os_current_exec_path(), 0);
}
