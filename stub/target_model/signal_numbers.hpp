// Signal numbers: the kernel's (Linux numbering, as the wire carries them) and gdb's remote
// protocol numbering (gdb/signals.def), which differ above 6 (Linux SIGBUS 7 is gdb's 10, gdb's 7
// is SIGEMT). T/W/X replies and vCont;C/S use gdb's.
#pragma once

namespace ruprobes::target {

// gdb's number for Linux signal `linux_signal`; 0 for 0; gdb's "unknown signal" (143) for a
// number gdb has no name for.
int gdb_signal_of_linux(int linux_signal);

// Linux's number for gdb signal `gdb_signal`; 0 for 0 and for a signal Linux does not have.
int linux_signal_of_gdb(int gdb_signal);

} // namespace ruprobes::target
