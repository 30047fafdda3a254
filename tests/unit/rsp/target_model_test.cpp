// The target model driven through the fake kernel: processes, stops, breakpoints translated to
// stop-mode probes, trace probes with hit counts, events to subscribers.
#include "run_task.hpp"
#include "target_model/fake_backend.hpp"
#include "target_model/target_model.hpp"

#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

using namespace ruprobes::target;
using ruprobes::test::run_task;
using ruprobes::test::run_until;

namespace {

struct model_test : ::testing::Test {
    boost::asio::io_context io;
    fake_backend fake{io.get_executor()};
    target_model model{fake};
    std::vector<target_event> events;
    target_model::subscription sub =
        model.subscribe([this](const target_event& e) { events.push_back(e); });

    template <typename E>
    std::vector<E> of() const {
        std::vector<E> out;
        for (const auto& e : events)
            if (auto* p = std::get_if<E>(&e))
                out.push_back(*p);
        return out;
    }
};

TEST_F(model_test, spawn_stopped_reports_stop_at_entry) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value()) << p.error().message;
    ASSERT_TRUE(run_until(io, [&] { return !of<stop_event>().empty(); }));
    auto stop = of<stop_event>().front();
    EXPECT_EQ(stop.thread, (thread_id{p->pid, p->pid}));
    EXPECT_EQ(stop.reason, stop_reason::spawned);
    EXPECT_EQ(stop.regs.pc, 0x10000u);
    ASSERT_TRUE(model.last_stop(stop.thread));
    EXPECT_EQ(of<exec_event>().at(0).program, "/bin/loop");
}

TEST_F(model_test, breakpoint_is_a_stop_probe_keyed_by_program_and_offset) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    auto id = run_task(io, model.insert_breakpoint(p->pid, 0x10006, 1));
    ASSERT_TRUE(id.has_value()) << id.error().message;
    auto armed = fake.armed_probes();
    ASSERT_EQ(armed.size(), 1u);
    EXPECT_EQ(armed[0].program, "/bin/loop");
    EXPECT_EQ(armed[0].offset, 0x10006u);
    EXPECT_EQ(armed[0].mode, probe_mode::stop);
    EXPECT_EQ(armed[0].pid, p->pid);

    thread_id t{p->pid, p->pid};
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    ASSERT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    EXPECT_FALSE(model.last_stop(t));
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    auto stop = *model.last_stop(t);
    EXPECT_EQ(stop.reason, stop_reason::breakpoint);
    EXPECT_EQ(stop.regs.pc, 0x10006u);
    EXPECT_EQ(stop.probe, *id);
    EXPECT_EQ(model.probe(*id)->hits, 1u);

    // Resuming from the breakpoint runs the loop around to it again.
    ASSERT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    EXPECT_EQ(model.last_stop(t)->regs.x[10], 1u); // one addi ran since the first stop
    EXPECT_EQ(model.probe(*id)->hits, 2u);

    ASSERT_TRUE(run_task(io, model.remove_breakpoint(p->pid, 0x10006, 1)).has_value());
    EXPECT_TRUE(fake.armed_probes().empty());
}

TEST_F(model_test, breakpoints_are_shared_and_removed_with_their_last_owner) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    auto a = run_task(io, model.insert_breakpoint(p->pid, 0x10004, 1));
    auto b = run_task(io, model.insert_breakpoint(p->pid, 0x10004, 2));
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(*a, *b);
    EXPECT_FALSE(run_task(io, model.remove_breakpoint(p->pid, 0x10004, 3)).has_value());
    run_task(io, model.remove_breakpoints_of(1));
    EXPECT_EQ(fake.armed_probes().size(), 1u);
    run_task(io, model.remove_breakpoints_of(2));
    EXPECT_TRUE(fake.armed_probes().empty());
    EXPECT_FALSE(model.breakpoint_at(p->pid, 0x10004));
}

TEST_F(model_test, trace_probe_counts_hits_without_stopping) {
    auto probe = run_task(
        io, model.add_trace_probe(
                {"/bin/loop", 0x10006, probe_kind::insn, probe_mode::stop, std::nullopt, {}}));
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    EXPECT_EQ(probe->spec.mode, probe_mode::trace);
    auto p = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.probe(probe->id)->hits >= 5; }));
    EXPECT_TRUE(of<stop_event>().empty());
    EXPECT_TRUE(fake.running(p->pid));
    auto hits = of<probe_hit_event>();
    ASSERT_GE(hits.size(), 5u);
    EXPECT_EQ(hits[0].pc, 0x10006u);
    EXPECT_EQ(hits[1].seq, hits[0].seq + 1);
    EXPECT_EQ(model.trace_probes().size(), 1u);
    ASSERT_TRUE(run_task(io, model.remove_trace_probe(probe->id)).has_value());
    EXPECT_TRUE(model.trace_probes().empty());
    EXPECT_EQ(run_task(io, model.remove_trace_probe(probe->id)).error().code,
              target_errc::no_such_probe);
}

TEST_F(model_test, attach_stops_a_running_process_with_sigint) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(run_task(io, model.attach(p->pid)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.any_stop(p->pid).has_value(); }));
    EXPECT_EQ(model.any_stop(p->pid)->signal, gdb_signal::sigint);
    EXPECT_EQ(model.any_stop(p->pid)->reason, stop_reason::interrupt);
}

TEST_F(model_test, exit_and_kill_are_reported) {
    auto p = run_task(io, model.spawn({"/bin/count"}, false));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(run_until(io, [&] { return !of<exit_event>().empty(); }));
    EXPECT_EQ(of<exit_event>()[0].pid, p->pid);
    EXPECT_FALSE(of<exit_event>()[0].signaled);
    EXPECT_EQ(of<exit_event>()[0].status, 3);

    auto q = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(q.has_value());
    ASSERT_TRUE(run_task(io, model.kill(q->pid)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return of<exit_event>().size() == 2; }));
    EXPECT_TRUE(of<exit_event>()[1].signaled);
    EXPECT_EQ(of<exit_event>()[1].status, gdb_signal::sigkill);
    EXPECT_EQ(run_task(io, model.kill(q->pid)).error().code, target_errc::no_such_process);
}

TEST_F(model_test, memory_and_registers_of_a_stopped_thread) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    auto mem = run_task(io, model.read_memory(p->pid, 0x10004, 2));
    ASSERT_TRUE(mem.has_value());
    EXPECT_EQ(*mem, (std::vector<uint8_t>{0x01, 0x00}));
    EXPECT_EQ(run_task(io, model.read_memory(p->pid, 0x1000, 4)).error().code,
              target_errc::bad_address);
    ASSERT_TRUE(
        run_task(io, model.write_memory(p->pid, fake_backend::stack_top - 8, {1, 2})).has_value());
    EXPECT_EQ(*run_task(io, model.read_memory(p->pid, fake_backend::stack_top - 8, 2)),
              (std::vector<uint8_t>{1, 2}));
    thread_id t{p->pid, p->pid};
    auto regs = run_task(io, model.read_registers(t));
    ASSERT_TRUE(regs.has_value());
    regs->x[5] = 42;
    ASSERT_TRUE(run_task(io, model.write_registers(t, *regs)).has_value());
    EXPECT_EQ(fake.regs_of(p->pid)->x[5], 42u);
}

TEST_F(model_test, disconnect_forgets_processes_and_breakpoints) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    auto id = run_task(io, model.insert_breakpoint(p->pid, 0x10004, 1));
    ASSERT_TRUE(id.has_value());
    EXPECT_TRUE(model.claim(p->pid, 1));
    EXPECT_FALSE(model.claim(p->pid, 2));
    fake.disconnect("qemu exited");
    ASSERT_TRUE(run_until(io, [&] { return !of<disconnected_event>().empty(); }));
    EXPECT_FALSE(model.cached_status().connected);
    EXPECT_FALSE(model.breakpoint_at(p->pid, 0x10004));
    EXPECT_FALSE(model.owner_of(p->pid));
    EXPECT_EQ(run_task(io, model.list_processes()).error().code, target_errc::not_connected);
    fake.reconnect();
    ASSERT_TRUE(run_until(io, [&] { return model.cached_status().connected; }));
    EXPECT_EQ(model.cached_status().boot_id, "fake-boot-2");
}

TEST_F(model_test, trace_probes_are_armed_again_in_a_restarted_kernel) {
    model.set_spawner([this](ruprobes::task<void> t) {
        boost::asio::co_spawn(io, std::move(t), boost::asio::detached);
    });
    auto other = run_task(
        io, model.add_trace_probe(
                {"/bin/count", 0x10008, probe_kind::insn, probe_mode::trace, std::nullopt, {}}));
    auto probe = run_task(
        io, model.add_trace_probe(
                {"/bin/loop", 0x10006, probe_kind::insn, probe_mode::trace, std::nullopt, {}}));
    ASSERT_TRUE(probe.has_value() && other.has_value());
    ASSERT_TRUE(run_task(io, model.remove_trace_probe(other->id)).has_value());
    fake.disconnect("qemu exited");
    ASSERT_TRUE(run_until(io, [&] { return !model.cached_status().connected; }));
    EXPECT_TRUE(fake.armed_probes().empty());
    fake.reconnect();
    ASSERT_TRUE(run_until(io, [&] { return fake.armed_probes().size() == 1; }));
    EXPECT_EQ(fake.armed_probes()[0].offset, 0x10006u);
    // Hits in the new kernel count under the same (model) id.
    auto p = run_task(io, model.spawn({"/bin/loop"}, false));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.probe(probe->id)->hits >= 3; }));
    EXPECT_EQ(of<probe_hit_event>().back().probe, probe->id);
    ASSERT_TRUE(run_task(io, model.remove_trace_probe(probe->id)).has_value());
    EXPECT_TRUE(fake.armed_probes().empty());
}

TEST_F(model_test, same_kernel_back_releases_breakpoints_and_stopped_threads) {
    model.set_spawner([this](ruprobes::task<void> t) {
        boost::asio::co_spawn(io, std::move(t), boost::asio::detached);
    });
    run_task(io, model.status());
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(model.claim(p->pid, 1));
    ASSERT_TRUE(run_task(io, model.insert_breakpoint(p->pid, 0x10006, 1)).has_value());
    thread_id t{p->pid, p->pid};
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    ASSERT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    fake.drop_connection("socket closed");
    ASSERT_TRUE(run_until(io, [&] { return !model.cached_status().connected; }));
    EXPECT_EQ(fake.armed_probes().size(), 1u);
    EXPECT_FALSE(fake.running(p->pid));
    fake.restore_connection();
    ASSERT_TRUE(run_until(io, [&] { return fake.running(p->pid) && fake.armed_probes().empty(); }));
}

// The first stop at the breakpoint on /bin/loop's `addi a0,a0,1` (0x10006), a0 == 0.
thread_id stop_at_addi(boost::asio::io_context& io, target_model& model) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    EXPECT_TRUE(p.has_value());
    EXPECT_TRUE(run_task(io, model.insert_breakpoint(p->pid, 0x10006, 1)).has_value());
    thread_id t{p->pid, p->pid};
    EXPECT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    EXPECT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    EXPECT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    EXPECT_EQ(model.last_stop(t)->regs.pc, 0x10006u);
    return t;
}

const std::vector<uint8_t> addi_a0_a0_1 = {0x13, 0x05, 0x15, 0x00};

TEST_F(model_test, step_on_host_stops_at_once_and_the_kernel_gets_the_registers_with_the_resume) {
    thread_id t = stop_at_addi(io, model);
    size_t stops = of<stop_event>().size();
    ASSERT_TRUE(model.step_on_host(t, addi_a0_a0_1));
    // The step's stop, delivered before step_on_host returned, as the kernel reports a step.
    ASSERT_EQ(of<stop_event>().size(), stops + 1);
    stop_event step = of<stop_event>().back();
    EXPECT_EQ(step.reason, stop_reason::step);
    EXPECT_EQ(step.signal, gdb_signal::sigtrap);
    EXPECT_FALSE(step.probe);
    EXPECT_EQ(step.regs.pc, 0x1000au);
    EXPECT_EQ(step.regs.x[10], 1u);
    EXPECT_EQ(run_task(io, model.read_registers(t))->pc, 0x1000au);
    // The kernel has not been asked anything: its thread is where it stopped.
    EXPECT_FALSE(fake.running(t.pid));
    EXPECT_EQ(fake.regs_of(t.pid)->pc, 0x10006u);
    EXPECT_EQ(fake.regs_of(t.pid)->x[10], 0u);

    // The resume writes them first: the loop comes round to the breakpoint with the addi run
    // once, and the breakpoint is hit (not passed over: the pc moved off it).
    ASSERT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    EXPECT_EQ(model.last_stop(t)->reason, stop_reason::breakpoint);
    EXPECT_EQ(model.last_stop(t)->regs.pc, 0x10006u);
    EXPECT_EQ(model.last_stop(t)->regs.x[10], 1u);
}

TEST_F(model_test, step_on_host_equals_a_step_in_the_kernel) {
    // Two steps from the breakpoint (addi, then j back to the c.nop), then a resume.
    thread_id t = stop_at_addi(io, model);
    ASSERT_TRUE(run_task(io, model.step(t)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    stop_event kernel_step = *model.last_stop(t);
    thread_id u = stop_at_addi(io, model);
    ASSERT_TRUE(model.step_on_host(u, addi_a0_a0_1));
    stop_event host_step = *model.last_stop(u);
    EXPECT_EQ(host_step.reason, kernel_step.reason);
    EXPECT_EQ(host_step.signal, kernel_step.signal);
    EXPECT_EQ(host_step.probe, kernel_step.probe);
    EXPECT_EQ(host_step.regs.pc, kernel_step.regs.pc);
    EXPECT_EQ(host_step.regs.x, kernel_step.regs.x);
    // A second host step (j -6, from a step stop), then a step in the kernel (the c.nop) that
    // must see both.
    const std::vector<uint8_t> j_back = {0x6f, 0xf0, 0xbf, 0xff}; // jal x0,-6
    ASSERT_TRUE(model.step_on_host(u, j_back));
    EXPECT_EQ(model.last_stop(u)->regs.pc, 0x10004u);
    ASSERT_TRUE(run_task(io, model.step(u)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(u).has_value(); }));
    EXPECT_EQ(model.last_stop(u)->regs.pc, 0x10006u);
    EXPECT_EQ(model.last_stop(u)->regs.x[10], 1u);
}

TEST_F(model_test, step_on_host_only_from_breakpoint_and_step_stops_of_unwritten_processes) {
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    thread_id t{p->pid, p->pid};
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    // Stopped at its entry (spawned): not a stop the kernel took at a probe or a step.
    EXPECT_FALSE(model.step_on_host(t, addi_a0_a0_1));
    // Not an instruction host_step takes (ld a0,0(sp)).
    thread_id u = stop_at_addi(io, model);
    EXPECT_FALSE(model.step_on_host(u, std::vector<uint8_t>{0x03, 0x35, 0x01, 0x00}));
    // After a memory write its text may no longer be what the caller's copy says.
    ASSERT_TRUE(run_task(io, model.write_memory(u.pid, 0x10004, {0x01, 0x00})).has_value());
    EXPECT_FALSE(model.step_on_host(u, addi_a0_a0_1));
    EXPECT_EQ(model.last_stop(u)->regs.pc, 0x10006u);
}

TEST_F(model_test, a_stop_request_after_a_host_step_repeats_the_steps_stop) {
    thread_id t = stop_at_addi(io, model);
    ASSERT_TRUE(model.step_on_host(t, addi_a0_a0_1));
    size_t stops = of<stop_event>().size();
    ASSERT_TRUE(run_task(io, model.stop(t)).has_value());
    ASSERT_TRUE(run_task(io, model.attach(t.pid)).has_value());
    ASSERT_EQ(of<stop_event>().size(), stops + 2);
    for (size_t i = stops; i < stops + 2; i++) {
        EXPECT_EQ(of<stop_event>()[i].reason, stop_reason::step);
        EXPECT_EQ(of<stop_event>()[i].regs.pc, 0x1000au);
    }
    EXPECT_EQ(fake.regs_of(t.pid)->pc, 0x10006u); // still only the model knows
}

TEST_F(model_test, a_register_write_after_a_host_step_is_what_the_kernel_gets) {
    thread_id t = stop_at_addi(io, model);
    ASSERT_TRUE(model.step_on_host(t, addi_a0_a0_1));
    registers r = *run_task(io, model.read_registers(t));
    r.x[10] = 40;
    ASSERT_TRUE(run_task(io, model.write_registers(t, r)).has_value());
    EXPECT_EQ(fake.regs_of(t.pid)->pc, 0x1000au);
    EXPECT_EQ(fake.regs_of(t.pid)->x[10], 40u);
    ASSERT_TRUE(run_task(io, model.resume(t, 0)).has_value());
    ASSERT_TRUE(run_until(io, [&] { return model.last_stop(t).has_value(); }));
    EXPECT_EQ(model.last_stop(t)->regs.x[10], 40u);
}

TEST_F(model_test, unsubscribed_handlers_get_nothing) {
    int calls = 0;
    auto s = model.subscribe([&](const target_event&) { calls++; });
    s.reset();
    auto p = run_task(io, model.spawn({"/bin/loop"}, true));
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(run_until(io, [&] { return !of<stop_event>().empty(); }));
    EXPECT_EQ(calls, 0);
}

} // namespace
