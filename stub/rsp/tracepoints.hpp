// gdb tracepoints for one RSP client (GDB manual E.6 "Tracepoint Packets"): the definitions gdb
// downloads (QTinit, QTDP, QTDV, QTro, QTBuffer), the run in the kernel (QTStart, QTStop,
// qTStatus), and the frames of the kernel's trace buffer (QTFrame, qTBuffer, qTV and, while a
// frame is selected, the g/p/m reads and qXfer:traceframe-info, answered from its collected
// data). Uploads for a reconnecting gdb: qTfP/qTsP, qTfV/qTsV.
//
// The kernel holds the buffer and collects at each hit (engine/agent/tracepoints.cpp); this side
// arms the tracepoints at QTStart (a site the engine refuses fails QTStart with its reason),
// translates gdb's actions to agent-expression lists and reads frames on demand.
#pragma once

#include "ruprobes/rsp/request.hpp"
#include "ruprobes/rsp/tracepoint_packets.hpp"
#include "target_model/target_model.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ruprobes::rsp {

class tracepoint_session {
public:
    using send_function = std::function<void(std::string payload)>;
    using text_reader = std::function<std::optional<std::vector<uint8_t>>(
        const std::string& program, uint64_t addr, uint64_t len)>;

    tracepoint_session(target::target_model& model, send_function send, text_reader read_text);

    // Answers `req` when it is a tracepoint packet, or a read a selected trace frame answers
    // (g, p, m, qXfer:traceframe-info); false: not ours, nothing was sent. `pid` and `program`:
    // the debugged process and its program (tracepoints are armed in it).
    task<bool> handle(const request& req, std::optional<target::pid_type> pid,
                      const std::string& program);
    // The client is gone: the run stops and the tracepoints are removed.
    task<void> finish();

    // What qSupported adds for tracepoints.
    static const char* features();

    // The expression list (u16 length + bytecode each) and register mask the kernel collects for
    // these actions: X as it is, M compiled to `trace`, R into the mask (x0..x31, pc). Exposed
    // for the tests.
    static std::vector<uint8_t> kernel_actions(const std::vector<tracepoint_action>& actions,
                                               uint64_t* registers);

private:
    struct definition {
        uint32_t number = 0;
        uint64_t address = 0;
        bool enabled = true;
        uint64_t passcount = 0;
        std::optional<std::vector<uint8_t>> condition;
        std::vector<tracepoint_action> actions;
    };

    task<void> on_query(const query_req& q, std::optional<target::pid_type> pid);
    void define(const query_req& q);
    task<void> start(std::optional<target::pid_type> pid);
    task<void> stop();
    task<void> status();
    task<void> select_frame(const query_req& q);
    task<void> raw_buffer(const query_req& q);
    void upload_tracepoints(bool first);
    void upload_variables(bool first);
    task<void> variable_value(const query_req& q);
    // Frame `n`, read from the kernel once; nothing when it has no such frame.
    task<const target::trace_frame*> frame(uint32_t n);
    uint64_t frame_pc(const target::trace_frame& f) const;
    task<void> remove_armed();

    void read_registers();
    void read_register(unsigned regno);
    void read_memory(uint64_t addr, uint64_t len, const std::string& program);
    void traceframe_info(const xfer_read_req& x);

    target::target_model& model_;
    send_function send_;
    text_reader read_text_;
    std::map<uint32_t, definition> definitions_;
    std::map<uint32_t, trace_variable_packet> variables_;
    std::vector<target::probe_id> armed_;
    uint32_t buffer_size_ = 0;                       // QTBuffer:size; 0: the kernel's default
    std::optional<uint32_t> selected_;               // QTFrame
    std::map<uint32_t, target::trace_frame> frames_; // read so far (the run's, bounded by it)
    std::vector<std::string> upload_;                // qTfP / qTfV lines not yet sent
    std::string raw_;                                // qTBuffer's image of the buffer
    std::string program_;                            // of the traced process (QTStart)
};

} // namespace ruprobes::rsp
