// RSP server layer against the fake kernel: gdb's connect sequence, registers, memory,
// breakpoints as stop-mode probes, resume/step/interrupt with stop replies, extended-remote,
// detach and bad input.
#include "rsp/debug_session.hpp"
#include "rsp/target_description.hpp"
#include "run_task.hpp"
#include "target_model/fake_backend.hpp"

#include <gtest/gtest.h>

using namespace ruprobes::target;
using namespace ruprobes::rsp;
using ruprobes::test::run_task;
using ruprobes::test::run_until;

namespace {

struct session_test : ::testing::Test {
    boost::asio::io_context io;
    fake_backend fake{io.get_executor()};
    target_model model{fake};
    std::vector<std::string> replies;

    std::unique_ptr<debug_session> make(session_options options = {}) {
        auto s = std::make_unique<debug_session>(
            model, std::move(options), [this](std::string p) { replies.push_back(std::move(p)); });
        run_task(io, s->start());
        return s;
    }

    // Sends one packet and returns its reply (waiting for a late one, e.g. a stop reply).
    std::string ask(debug_session& s, std::string_view payload) {
        replies.clear();
        run_task(io, s.handle(payload));
        if (!run_until(
                io, [&] { return !replies.empty(); }, std::chrono::seconds(2)))
            return "<no reply>";
        EXPECT_EQ(replies.size(), 1u) << payload;
        return replies.front();
    }
    // Sends one packet that must not be answered (yet).
    void send_quiet(debug_session& s, std::string_view payload) {
        replies.clear();
        run_task(io, s.handle(payload));
        EXPECT_TRUE(replies.empty()) << payload << " -> " << replies.front();
    }
    std::string wait_reply() {
        if (!run_until(
                io, [&] { return !replies.empty(); }, std::chrono::seconds(2)))
            return "<no reply>";
        return replies.back();
    }
};

session_options spawning(const char* program) {
    session_options o;
    o.spawn = {program};
    return o;
}

std::string thread_of(pid_type pid) {
    return format_thread(pid, pid);
}

TEST_F(session_test, connect_sequence_of_gdb_13) {
    auto s = make(spawning("/bin/loop"));
    ASSERT_TRUE(s->pid());
    pid_type pid = *s->pid();
    std::string sup = ask(*s, "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
                              "fork-events+;vfork-events+;exec-events+;vContSupported+;"
                              "QThreadEvents+;no-resumed+;memory-tagging+");
    EXPECT_NE(sup.find("PacketSize=4000"), std::string::npos);
    EXPECT_NE(sup.find("multiprocess+"), std::string::npos);
    EXPECT_NE(sup.find("swbreak+"), std::string::npos);
    EXPECT_NE(sup.find("QStartNoAckMode+"), std::string::npos);
    EXPECT_NE(sup.find("qXfer:features:read+"), std::string::npos);
    EXPECT_NE(sup.find("qXfer:threads:read+"), std::string::npos);
    EXPECT_EQ(ask(*s, "vMustReplyEmpty"), "");
    EXPECT_EQ(ask(*s, "QStartNoAckMode"), "OK");
    EXPECT_TRUE(s->no_ack_requested());
    EXPECT_EQ(ask(*s, "Hgp0.0"), "OK");
    std::string xml = ask(*s, "qXfer:features:read:target.xml:0,ffb");
    EXPECT_EQ(xml[0], 'l');
    EXPECT_EQ(xml.substr(1), riscv64_target_xml());
    EXPECT_NE(xml.find("<architecture>riscv:rv64</architecture>"), std::string::npos);
    EXPECT_NE(xml.find("org.gnu.gdb.riscv.cpu"), std::string::npos);
    EXPECT_EQ(ask(*s, "qTStatus"), "");
    std::string stop = ask(*s, "?");
    EXPECT_EQ(stop.substr(0, 3), "T05");
    EXPECT_NE(stop.find("thread:" + thread_of(pid) + ";"), std::string::npos);
    EXPECT_NE(stop.find("20:0000010000000000;"), std::string::npos); // pc = 0x10000
    EXPECT_EQ(stop.find("swbreak"), std::string::npos);
    EXPECT_EQ(ask(*s, "qfThreadInfo"), "m" + thread_of(pid));
    EXPECT_EQ(ask(*s, "qsThreadInfo"), "l");
    // The same list in one packet (gdb prefers it when qSupported offers it), and in chunks.
    const std::string threads =
        "<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"" + thread_of(pid) + "\"/>\n</threads>\n";
    EXPECT_EQ(ask(*s, "qXfer:threads:read::0,fff"), "l" + threads);
    EXPECT_EQ(ask(*s, "qXfer:threads:read::0,10"), "m" + threads.substr(0, 16));
    EXPECT_EQ(ask(*s, "qXfer:threads:read::10,fff"), "l" + threads.substr(16));
    EXPECT_EQ(ask(*s, "qAttached:" + std::to_string(pid)), "0");
    EXPECT_EQ(ask(*s, "qC"), "QC" + thread_of(pid));
    EXPECT_EQ(ask(*s, "qOffsets"), "");
    EXPECT_EQ(ask(*s, "vCont?"), "vCont;c;C;s;S;t");
    EXPECT_EQ(ask(*s, "qSymbol::"), "OK");
}

TEST_F(session_test, xfer_in_chunks) {
    auto s = make(spawning("/bin/loop"));
    std::string got;
    for (uint64_t off = 0;;) {
        char req[64];
        std::snprintf(req, sizeof req, "qXfer:features:read:target.xml:%llx,40",
                      static_cast<unsigned long long>(off));
        std::string r = ask(*s, req);
        ASSERT_FALSE(r.empty());
        got += r.substr(1);
        off += r.size() - 1;
        if (r[0] == 'l')
            break;
        ASSERT_EQ(r[0], 'm');
    }
    EXPECT_EQ(got, riscv64_target_xml());
    EXPECT_EQ(ask(*s, "qXfer:features:read:other.xml:0,40")[0], 'E');
}

TEST_F(session_test, registers_read_and_write) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    std::string g = ask(*s, "g");
    ASSERT_EQ(g.size(), 33u * 16);
    EXPECT_EQ(g.substr(32 * 16), "0000010000000000");                      // pc
    EXPECT_EQ(g.substr(2 * 16, 16), le_hex(fake_backend::stack_top - 16)); // sp
    EXPECT_EQ(ask(*s, "p20"), "0000010000000000");
    EXPECT_EQ(ask(*s, "P5=2a00000000000000"), "OK");
    EXPECT_EQ(fake.regs_of(*s->pid())->x[5], 42u);
    EXPECT_EQ(ask(*s, "p5"), "2a00000000000000");
    std::string G = g;
    G.replace(6 * 16, 16, le_hex(7));
    EXPECT_EQ(ask(*s, "G" + G), "OK");
    EXPECT_EQ(fake.regs_of(*s->pid())->x[6], 7u);
    EXPECT_EQ(ask(*s, "p45")[0], 'E'); // 69: no such register
    EXPECT_EQ(ask(*s, "p41")[0], 'E'); // 65: a gap in gdb's numbering
}

TEST_F(session_test, fp_registers_read_and_write_with_p_and_P) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "p21"), "0000000000000000"); // f0
    uint64_t requests = fake.requests();
    EXPECT_EQ(ask(*s, "p40"), "0000000000000000"); // f31: kept with the stop, no round trip
    EXPECT_EQ(fake.requests(), requests);
    // fa0 (f10, gdb's 43 = 0x2b) = 2.5
    EXPECT_EQ(ask(*s, "P2b=0000000000000440"), "OK");
    EXPECT_EQ(fake.fp_of(*s->pid())->f[10], 0x4004000000000000u);
    EXPECT_EQ(ask(*s, "p2b"), "0000000000000440");
    // frm (67 = 0x43) and fflags (66 = 0x42) are fields of fcsr (68 = 0x44), 32 bits each.
    EXPECT_EQ(ask(*s, "P43=01000000"), "OK");
    EXPECT_EQ(ask(*s, "P42=11000000"), "OK");
    EXPECT_EQ(fake.fp_of(*s->pid())->fcsr, 0x31u);
    EXPECT_EQ(ask(*s, "p44"), "31000000");
    EXPECT_EQ(ask(*s, "p43"), "01000000");
    EXPECT_EQ(ask(*s, "P44=ff010000"), "OK"); // bits above 7 do not exist
    EXPECT_EQ(ask(*s, "p44"), "ff000000");
    EXPECT_EQ(ask(*s, "P44=ff")[0], 'E'); // fcsr is 4 bytes
    EXPECT_EQ(ask(*s, "G00")[0], 'E');
}

TEST_F(session_test, memory_read_write_and_unmapped) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "m10004,2"), "0100");
    EXPECT_EQ(ask(*s, "m1000,4"), "E05");
    EXPECT_EQ(ask(*s, "M7fffff00,2:abcd"), "OK");
    EXPECT_EQ(ask(*s, "m7fffff00,2"), "abcd");
    EXPECT_EQ(ask(*s, std::string("X7fffff00,3:#}", 14)), "E09"); // length mismatch
    EXPECT_EQ(ask(*s, std::string("X7fffff00,1:#", 13)), "OK");
    EXPECT_EQ(ask(*s, "m7fffff00,1"), "23");
    EXPECT_EQ(ask(*s, "X7fffff00,0:"), "OK");
    // Across the end of a mapping: the part before the unmapped page.
    std::string tail = ask(*s, "m7ffffff8,10");
    EXPECT_EQ(tail.size(), 16u);
}

TEST_F(session_test, breakpoint_continue_step_and_exit) {
    auto s = make(spawning("/bin/count"));
    pid_type pid = *s->pid();
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "Z0,1000a,4"), "OK");
    ASSERT_EQ(fake.armed_probes().size(), 1u);
    EXPECT_EQ(fake.armed_probes()[0].offset, 0x1000au);
    send_quiet(*s, "vCont;c:" + thread_of(pid));
    std::string stop = wait_reply();
    EXPECT_EQ(stop.substr(0, 3), "T05");
    EXPECT_NE(stop.find("swbreak:;"), std::string::npos);
    EXPECT_NE(stop.find("20:0a00010000000000;"), std::string::npos);
    // stepi over a 32-bit instruction: pc + 4.
    send_quiet(*s, "vCont;s:" + thread_of(pid));
    stop = wait_reply();
    EXPECT_NE(stop.find("20:0e00010000000000;"), std::string::npos) << stop;
    EXPECT_EQ(stop.find("swbreak"), std::string::npos);
    // bne back to the c.nop at 0x10008, then stepi over it: pc + 2.
    send_quiet(*s, "s");
    EXPECT_NE(wait_reply().find("20:0800010000000000;"), std::string::npos);
    send_quiet(*s, "s");
    EXPECT_NE(wait_reply().find("20:0a00010000000000;"), std::string::npos);
    EXPECT_EQ(ask(*s, "z0,1000a,4"), "OK");
    EXPECT_EQ(fake.armed_probes().size(), 1u); // the removal waits: gdb usually re-inserts
    send_quiet(*s, "c");
    EXPECT_EQ(wait_reply(), "W03;process:" + format_thread(pid, 0).substr(
                                                 1, format_thread(pid, 0).find('.') - 1));
    EXPECT_FALSE(s->pid());
    EXPECT_EQ(ask(*s, "?"), wait_reply());
}

TEST_F(session_test, breakpoint_removals_wait_only_while_the_process_is_stopped) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    send_quiet(*s, "c");
    EXPECT_NE(wait_reply().find("swbreak"), std::string::npos);
    uint64_t requests = fake.requests();
    // gdb's stop/resume dance: remove, read, step over the breakpoint, re-insert: the step is
    // the only kernel request besides the one block read.
    EXPECT_EQ(ask(*s, "z0,10006,4"), "OK");
    EXPECT_EQ(ask(*s, "m7fffff00,4"), "00000000");
    EXPECT_EQ(ask(*s, "m7fffff10,2"), "0000"); // same block: cached
    send_quiet(*s, "vCont;s:" + thread_of(*s->pid()));
    EXPECT_EQ(wait_reply().substr(0, 3), "T05");
    EXPECT_EQ(fake.armed_probes().size(), 1u) << "a single step cannot reach a breakpoint";
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    EXPECT_EQ(fake.requests(), requests + 2); // the block read and the step
    // Removed for real: gone from the kernel before the process runs again, so the loop passes
    // 0x10006 without stopping; only the interrupt stops it.
    EXPECT_EQ(ask(*s, "z0,10006,4"), "OK");
    send_quiet(*s, "c");
    EXPECT_TRUE(fake.armed_probes().empty());
    EXPECT_TRUE(replies.empty());
    run_task(io, s->interrupt());
    EXPECT_EQ(wait_reply().substr(0, 3), "T02");
}

// Target-side conditions: the X entries of Z0 go with the probe; the target evaluates them at
// each hit (the fake with the engine's interpreter), so only a hit whose condition holds stops.
TEST_F(session_test, breakpoint_conditions_are_evaluated_by_the_target) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    EXPECT_NE(ask(*s, "qSupported:multiprocess+;swbreak+").find(";ConditionalBreakpoints+"),
              std::string::npos);
    // a0 == 5 at 0x10006 (reg 10; const8 5; equal; end), gdb's form of `if $a0 == 5`.
    EXPECT_EQ(ask(*s, "Z0,10006,4;X7,26000a22051327"), "OK");
    ASSERT_EQ(fake.armed_probes().size(), 1u);
    EXPECT_EQ(fake.armed_probes()[0].condition,
              (std::vector<uint8_t>{7, 0, 0x26, 0, 0x0a, 0x22, 5, 0x13, 0x27}));
    send_quiet(*s, "c");
    EXPECT_NE(wait_reply().find(";a:0500000000000000;"), std::string::npos) << replies.back();
    // gdb's stop/resume dance with the same condition: still the same probe.
    EXPECT_EQ(ask(*s, "z0,10006,4"), "OK");
    EXPECT_EQ(ask(*s, "Z0,10006,4;X7,26000a22051327"), "OK");
    // `condition 1 $a0 == 8` (or a == 8 || a == 9: two X entries back to back): a new probe.
    EXPECT_EQ(ask(*s, "z0,10006,4"), "OK");
    EXPECT_EQ(ask(*s, "Z0,10006,4;X7,26000a22091327X7,26000a22081327"), "OK");
    ASSERT_EQ(fake.armed_probes().size(), 1u);
    EXPECT_EQ(fake.armed_probes()[0].condition.size(), 18u);
    send_quiet(*s, "c");
    EXPECT_NE(wait_reply().find(";a:0800000000000000;"), std::string::npos) << replies.back();
    // Malformed packets and bytecode the target refuses (opcode 0xff) are answered with an
    // error and arm nothing new.
    EXPECT_EQ(ask(*s, "Z0,10006,4;X7,26000a2205")[0], 'E');
    EXPECT_EQ(ask(*s, "Z0,10006,4;X2,ff27")[0], 'E');
    ASSERT_EQ(fake.armed_probes().size(), 1u);
    EXPECT_EQ(fake.armed_probes()[0].condition.size(), 18u);
}

TEST_F(session_test, interrupt_stops_a_running_process_with_sigint) {
    auto s = make(spawning("/bin/loop"));
    pid_type pid = *s->pid();
    ask(*s, "?");
    send_quiet(*s, "vCont;c");
    EXPECT_TRUE(fake.running(pid));
    run_task(io, s->interrupt());
    std::string stop = wait_reply();
    EXPECT_EQ(stop.substr(0, 3), "T02") << stop;
    EXPECT_FALSE(fake.running(pid));
}

TEST_F(session_test, detach_removes_breakpoints_and_resumes) {
    auto s = make(spawning("/bin/loop"));
    pid_type pid = *s->pid();
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    EXPECT_EQ(ask(*s, "D;" + format_thread(pid, 0).substr(1, format_thread(pid, 0).find('.') - 1)),
              "OK");
    EXPECT_TRUE(fake.armed_probes().empty());
    EXPECT_TRUE(fake.running(pid));
    EXPECT_TRUE(s->closing());
    EXPECT_FALSE(model.owner_of(pid));
}

TEST_F(session_test, client_gone_while_stopped_cleans_up) {
    pid_type pid;
    {
        auto s = make(spawning("/bin/loop"));
        pid = *s->pid();
        ask(*s, "?");
        EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
        send_quiet(*s, "c");
        wait_reply();
        run_task(io, s->finish());
    }
    EXPECT_TRUE(fake.armed_probes().empty());
    EXPECT_TRUE(fake.running(pid));
    EXPECT_FALSE(model.owner_of(pid));
}

TEST_F(session_test, a_process_killed_while_stopped_is_reported_at_the_next_resume) {
    auto s = make();
    EXPECT_EQ(ask(*s, "!"), "OK");
    EXPECT_EQ(ask(*s, "vRun;" + string_to_hex("/bin/loop")).substr(0, 3), "T05");
    pid_type pid = *s->pid();
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    send_quiet(*s, "c");
    EXPECT_NE(wait_reply().find("swbreak"), std::string::npos);
    EXPECT_EQ(ask(*s, "z0,10006,4"), "OK"); // gdb's removal at the stop
    // Killed by someone else (the JSON-RPC side) while gdb looks at it: gdb learns nothing yet.
    replies.clear();
    ASSERT_TRUE(run_task(io, model.kill(pid)).has_value());
    run_until(io, [&] { return !s->pid(); });
    EXPECT_TRUE(replies.empty());
    // gdb steps over the breakpoint: that ends as a step; the next resume gets the exit.
    std::string step = ask(*s, "vCont;s:" + thread_of(pid));
    EXPECT_EQ(step.substr(0, 3), "T05") << step;
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    std::string exit = ask(*s, "vCont;c");
    EXPECT_EQ(exit.substr(0, 3), "X09") << exit;
    // And the next run works.
    EXPECT_EQ(ask(*s, "vRun;" + string_to_hex("/bin/loop")).substr(0, 3), "T05");
}

TEST_F(session_test, vrun_while_holding_a_process_kills_it) {
    auto s = make();
    EXPECT_EQ(ask(*s, "!"), "OK");
    EXPECT_EQ(ask(*s, "vRun;" + string_to_hex("/bin/loop")).substr(0, 3), "T05");
    pid_type first = *s->pid();
    EXPECT_EQ(ask(*s, "vRun;" + string_to_hex("/bin/loop")).substr(0, 3), "T05");
    EXPECT_NE(*s->pid(), first);
    run_until(io, [&] { return !run_task(io, model.process(first)).has_value(); });
    EXPECT_FALSE(run_task(io, model.process(first)).has_value())
        << "no process left stopped, unowned";
}

TEST_F(session_test, extended_remote_run_attach_kill) {
    auto s = make();
    EXPECT_EQ(ask(*s, "!"), "OK");
    EXPECT_EQ(ask(*s, "?"), "W00");
    EXPECT_EQ(ask(*s, "qfThreadInfo"), "l");
    std::string stop = ask(*s, "vRun;" + string_to_hex("/bin/loop"));
    EXPECT_EQ(stop.substr(0, 3), "T05");
    ASSERT_TRUE(s->pid());
    pid_type first = *s->pid();
    auto pid_hex = [](pid_type p) {
        std::string t = format_thread(p, 0);
        return t.substr(1, t.find('.') - 1);
    };
    EXPECT_EQ(ask(*s, "vKill;" + pid_hex(first)), "OK");
    run_until(io, [&] { return !run_task(io, model.process(first)).has_value(); });
    EXPECT_FALSE(s->pid());

    // A process started elsewhere (by another client or the JSON-RPC side), running.
    auto other = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(other.has_value());
    stop = ask(*s, "vAttach;" + pid_hex(other->pid));
    EXPECT_EQ(stop.substr(0, 1), "T");
    EXPECT_NE(stop.find("thread:" + thread_of(other->pid)), std::string::npos);
    EXPECT_EQ(ask(*s, "qAttached:" + pid_hex(other->pid)), "1");
    EXPECT_FALSE(fake.running(other->pid));

    // A second client cannot take it over.
    auto s2 = make();
    EXPECT_EQ(ask(*s2, "vAttach;" + pid_hex(other->pid)), "E0a");
    // A host path for vRun becomes /bin/<name>.
    EXPECT_EQ(ask(*s2, "vRun;" + string_to_hex("/home/me/build/guest/user/count")).substr(0, 3),
              "T05");
    EXPECT_EQ(run_task(io, model.process(*s2->pid()))->program, "/bin/count");
}

TEST_F(session_test, only_the_debugged_process_stops) {
    auto bystander = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(bystander.has_value());
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    EXPECT_EQ(ask(*s, "Z0,10006,4"), "OK");
    send_quiet(*s, "c");
    EXPECT_NE(wait_reply().find("swbreak"), std::string::npos);
    EXPECT_TRUE(fake.running(bystander->pid));
    EXPECT_FALSE(fake.running(*s->pid()));
}

TEST_F(session_test, monitor_commands_and_process_list) {
    auto s = make(spawning("/bin/loop"));
    replies.clear();
    run_task(io, s->handle("qRcmd," + string_to_hex("ps")));
    ASSERT_TRUE(run_until(io, [&] { return replies.size() == 2; }));
    auto hex = parse_hex_bytes(replies[0].substr(1));
    ASSERT_TRUE(hex);
    std::string text(hex->begin(), hex->end());
    EXPECT_EQ(replies[0][0], 'O');
    EXPECT_NE(text.find("  100  stopped   /bin/loop  (debugged)"), std::string::npos) << text;
    EXPECT_EQ(replies[1], "OK");
    std::string os = ask(*s, "qXfer:osdata:read:processes:0,fff");
    EXPECT_EQ(os[0], 'l');
    EXPECT_NE(os.find("<column name=\"pid\">100</column>"), std::string::npos) << os;
    EXPECT_NE(os.find("/bin/loop"), std::string::npos) << os;
    EXPECT_EQ(ask(*s, "qRcmd,zz"), "E09");
}

TEST_F(session_test, bad_input_is_answered) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    for (auto p : {"m", "mzz,1", "Z0,zz,4", "Hx", "vCont;q", "P1", "X1,2", "vAttach;"})
        EXPECT_EQ(ask(*s, p), "E09") << p;
    for (auto p : {"", "J", "vFile:open:", "qUnknownThing", "Z1,10006,4", "Z2,10006,4"})
        EXPECT_EQ(ask(*s, p), "") << p;
    EXPECT_EQ(ask(*s, "Z0,20000,4"), "E08"); // outside the program's text: unprobeable
    EXPECT_EQ(ask(*s, "vAttach;999"), "E02");
    EXPECT_EQ(ask(*s, "D;999"), "E02");
}

TEST_F(session_test, target_gone_while_running_gives_an_exit) {
    auto s = make(spawning("/bin/loop"));
    ask(*s, "?");
    send_quiet(*s, "c");
    fake.disconnect("qemu exited");
    EXPECT_EQ(wait_reply().substr(0, 3), "X09");
    EXPECT_FALSE(s->pid());
}

} // namespace
