// An in-memory kernel for tests and for `ruprobesd-fake` (stub/daemon/fake_main.cpp): processes
// with memory and registers that "run" a tiny RV64 subset (addi, jal, jalr, beq, bne, ecall exit,
// everything else as a no-op of its length), stop-mode and trace probes keyed by program + offset,
// and events posted to the io_context like a real channel would deliver them.
#pragma once

#include "target_model/target_backend.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::target {

struct fake_program {
    std::string path;  // "/bin/loop"
    uint64_t base = 0; // where `text` is mapped (and its ELF address: load bias 0)
    std::vector<uint8_t> text;
    uint64_t entry = 0;
};

// A few ready-made programs (see fake_programs.cpp for their code and addresses):
//   /bin/loop   counts a0 up forever:   0x10000 li a0,0 | 0x10004 c.nop | 0x10006 addi a0,a0,1
//                                       | 0x1000a jal x0,0x10004
//   /bin/count  counts a0 to 3, exits 3: 0x10000 li a0,0 | 0x10004 li t0,3 | 0x10008 c.nop
//                                       | 0x1000a addi a0,a0,1 | 0x1000e bne a0,t0,0x10008
//                                       | 0x10012 li a7,93 | 0x10016 ecall
std::vector<fake_program> fake_programs();

class fake_backend : public target_backend {
public:
    static constexpr uint64_t stack_top = 0x80000000;
    static constexpr uint64_t stack_size = 0x10000;
    static constexpr uint64_t insns_per_tick = 256;

    // A connected fake kernel knowing `programs` (fake_programs() when empty).
    explicit fake_backend(boost::asio::any_io_executor executor,
                          std::vector<fake_program> programs = {});
    ~fake_backend() override;

    void set_event_sink(event_sink sink) override;
    task<target_status> status() override;
    task<outcome<std::vector<process_info>>> list_processes() override;
    task<outcome<process_info>> spawn(std::vector<std::string> argv, bool stopped) override;
    task<outcome<void>> kill(pid_type pid) override;
    task<outcome<std::vector<thread_info>>> list_threads(pid_type pid) override;
    task<outcome<void>> stop(thread_id thread) override;
    task<outcome<void>> resume(thread_id thread, int signal) override;
    task<outcome<void>> step(thread_id thread) override;
    task<outcome<registers>> read_registers(thread_id thread) override;
    task<outcome<void>> write_registers(thread_id thread, const registers& regs) override;
    task<outcome<fp_registers>> read_fp_registers(thread_id thread) override;
    task<outcome<void>> write_fp_registers(thread_id thread, const fp_registers& regs) override;
    task<outcome<std::vector<uint8_t>>> read_memory(pid_type pid, uint64_t addr,
                                                    uint64_t len) override;
    task<outcome<void>> write_memory(pid_type pid, uint64_t addr,
                                     std::vector<uint8_t> bytes) override;
    task<outcome<probe_id>> add_probe(probe_spec spec) override;
    task<outcome<void>> remove_probe(probe_id id) override;
    task<outcome<aggregation_table>> read_aggregation(probe_id id) override;

    // ---- test controls (synchronous) -------------------------------------------------------
    // The kernel goes away: every process is gone, requests fail with not_connected.
    void disconnect(const std::string& reason);
    // A new boot: connected again with a fresh boot id, no processes, no probes.
    void reconnect();
    // The channel drops but the kernel lives on: processes, stops and probes stay; requests
    // fail until restore_connection() (same boot id).
    void drop_connection(const std::string& reason);
    void restore_connection();
    // Probes currently registered in the fake kernel.
    std::vector<probe_spec> armed_probes() const;
    bool running(pid_type pid) const;
    std::optional<registers> regs_of(pid_type pid) const;
    std::optional<fp_registers> fp_of(pid_type pid) const;
    // Reads a request reached the backend (for tests that count round trips).
    uint64_t requests() const { return requests_; }

private:
    struct process {
        process_info info;
        registers regs;
        fp_registers fp;
        bool running = false;
        bool skip_probe_once = false; // resuming from a breakpoint stop at pc
        uint64_t stop_pc = 0; // where it stopped: a resume from elsewhere (pc written) skips none
        std::map<uint64_t, std::vector<uint8_t>> regions; // base -> bytes
    };

    outcome<process*> find(pid_type pid);
    // find(), and not_stopped when the process is running.
    outcome<process*> find_stopped(pid_type pid);
    void emit(target_event event);
    void schedule();
    void tick();
    // Runs one instruction of `p`; false when the process stopped or exited because of it.
    bool execute(process& p, bool check_probes);
    uint8_t* mapped(process& p, uint64_t addr, uint64_t len);
    // The items a probe's fetch list reads from `p` now, as the kernel's agent fetches them.
    std::vector<fetched_item> fetch(process& p, const std::vector<wire::fetch_entry>& list);
    bool condition_holds(process& p, const std::vector<uint8_t>& list);
    void exit_process(pid_type pid, bool signaled, int status);
    void stop_process(process& p, stop_reason reason, int signal, std::optional<probe_id> probe);

    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer timer_;
    bool timer_armed_ = false;
    event_sink sink_;
    std::vector<fake_program> programs_;
    target_status status_;
    std::map<pid_type, process> processes_;
    std::map<probe_id, probe_spec> probes_;
    pid_type next_pid_ = 100;
    probe_id next_probe_ = 1;
    uint64_t seq_ = 0;
    uint64_t boots_ = 1;
    uint64_t requests_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace ruprobes::target
