// The host port: a simulated machine that implements the engine's port hooks (ruprobes.h) for
// unit tests and the host benchmark. Processes have page-less memory regions with user
// permissions (text R+X, data R+W, stack R+W, xol page R+X), programs are byte images, the
// current thread and the clock are set by the test. `cpu` runs RV64 code from process memory,
// one instruction at a time, and sends every ebreak to uprobes_trap_handler_ex: tests drive real
// instruction streams through the engine's hit path.
#pragma once

#include "ruprobes/ruprobes.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ruprobes::test {

enum perm : uint8_t { perm_r = 1, perm_w = 2, perm_x = 4 };

struct region {
    uint64_t base = 0;
    std::vector<uint8_t> bytes;
    uint8_t perms = 0;
    bool contains(uint64_t addr, size_t len) const {
        return addr >= base && addr - base <= bytes.size() && len <= bytes.size() - (addr - base);
    }
};

struct host_process {
    uint32_t pid = 0;
    std::string path;
    std::vector<region> regions;
    uint64_t xol = 0;
};

struct host_program {
    uint64_t text_begin = 0;
    std::vector<uint8_t> text;
};

// Fixed layout of every simulated process.
inline constexpr uint64_t text_base = 0x10000;
inline constexpr uint64_t data_base = 0x200000;
inline constexpr uint64_t data_size = 0x10000;
inline constexpr uint64_t stack_top = 0x7fff0000;
inline constexpr uint64_t stack_size = 0x40000;
inline constexpr uint64_t xol_base = 0x3f000000;   // out of a jal's reach (+-1 MiB) of the text
inline constexpr uint64_t near_xol_base = 0x80000; // within it

class host_machine {
public:
    // Installs this machine as the one the hooks use (one at a time).
    host_machine();
    ~host_machine();
    host_machine(const host_machine&) = delete;
    host_machine& operator=(const host_machine&) = delete;

    // The machine the hooks use; aborts the test if there is none.
    static host_machine& current();
    static host_machine* installed_or_null();

    // Programs the "kernel" can exec: a text image at `text_begin`.
    void add_program(const std::string& path, std::vector<uint8_t> text,
                     uint64_t begin = text_base);
    // Another name of program `path` (a link): os_program_get gives the same key for both.
    void add_alias(const std::string& alias, const std::string& path) { aliases[alias] = path; }
    // The program a path names (through an alias), or nullptr.
    host_program* program_named(const std::string& path);
    // A 32/16-bit little-endian instruction stream as bytes.
    static std::vector<uint8_t> code(std::initializer_list<uint32_t> words);

    // Creates (or replaces) process `pid` running `path` (text copied from the program, fresh
    // data, stack and, if `with_xol`, an xol page at xol_page_at) and calls uprobes_on_exec.
    // Returns its result.
    int exec(uint32_t pid, const std::string& path, bool with_xol = true);
    // Copies process `parent` into `child` (all regions) and calls uprobes_on_fork.
    int fork(uint32_t parent, uint32_t parent_tid, uint32_t child, uint32_t child_tid);
    // Removes process `pid` and calls uprobes_on_exit.
    void exit(uint32_t pid);

    host_process* process(uint32_t pid);
    void set_current(uint32_t pid, uint32_t tid) {
        current_pid = pid;
        current_tid = tid;
    }

    // Memory access with user permissions `need` (0: any mapped byte, like the kernel's poke).
    bool read(uint32_t pid, uint64_t addr, void* dst, size_t len, uint8_t need) const;
    bool write(uint32_t pid, uint64_t addr, const void* src, size_t len, uint8_t need);
    uint32_t read16(uint32_t pid, uint64_t addr) const;
    uint32_t read32(uint32_t pid, uint64_t addr) const;

    // Where exec maps the xol page.
    uint64_t xol_page_at = xol_base;
    uint32_t current_pid = 0, current_tid = 0;
    uint64_t clock_ns = 1000;
    uint64_t pokes = 0, flushes = 0, lock_depth = 0, max_lock_depth = 0;
    // os_program_get/put calls, those made with the engine lock held (must stay 0: they may
    // sleep in a real kernel), and images handed out and not yet put back.
    uint64_t program_gets = 0, program_hooks_under_lock = 0;
    int64_t images_held = 0;
    bool fail_pokes = false;
    std::map<std::string, host_program> programs;
    std::map<std::string, std::string> aliases;
    std::map<uint32_t, host_process> processes;
};

// The engine's memory block and its initialisation, as a kernel would do at boot.
class engine_memory {
public:
    explicit engine_memory(const uprobes_limits* limits = nullptr);
    ~engine_memory();
    int init_result = 0;

private:
    void* block_ = nullptr;
};

// A tiny RV64 interpreter over host_machine memory: integer instructions through the engine's
// own simulator, amoadd.w/amoswap.w natively (to exercise out-of-line slots), ebreak to the
// engine. Stops at `until`, at a STOP/NOT_OURS/FAULT from the engine, at a fault, or after
// `max_steps` instructions.
struct cpu {
    enum class outcome { reached, stopped, not_ours, fault, step_limit, illegal };
    uprobes_trap_context ctx = {};
    uprobes_trap_info last_info = {};
    uint64_t traps = 0;
    outcome run(uint64_t until, uint64_t max_steps = 1000000);
};

} // namespace ruprobes::test
