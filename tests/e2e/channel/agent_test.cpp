// The in-kernel agent through the host client library (stub/channel) against the real kernel in
// QEMU: trace probes on fib 15 (every hit delivered, none lost), stop mode with registers,
// memory and single step, F/D registers, bad requests, garbage in the stream and a host
// reconnect.
#include "channel/channel_client.hpp"
#include "ruprobes/wire/codec.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "symbols/program_symbols.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <map>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace channel = ruprobes::channel;
namespace wire = ruprobes::wire;
using ruprobes::test::guest_options;
using ruprobes::test::qemu_guest;
using ruprobes::test::temp_dir;

namespace {

// A guest that stays up after its (empty) command list, with the agent's channel.
guest_options staying_guest() {
    guest_options o;
    o.agent_channel = true;
    o.append = "ruprobes.stay";
    return o;
}

std::shared_ptr<const ruprobes::symbols::program_symbols> load_program(const std::string& name) {
    auto r = ruprobes::symbols::program_symbols::load(std::string(ruprobes::test::user_dir) + "/" +
                                                      name);
    return r ? *r : nullptr;
}

// The kernel's status of a failed request (0 when it succeeded), and how it failed.
template <typename T>
int32_t status_of(const channel::call_result<T>& r) {
    return r ? 0 : r.error().status;
}
template <typename T>
channel::call_errc errc_of(const channel::call_result<T>& r) {
    return r ? channel::call_errc::ok : r.error().errc;
}

uint64_t function_address(const ruprobes::symbols::program_symbols& prog, const char* name) {
    auto f = prog.find_function(name);
    return f ? f->address : 0;
}

// Runs `body` on `io` (bounded by `limit`); false when it did not finish.
bool run(asio::io_context& io, std::function<asio::awaitable<void>()> body,
         std::chrono::seconds limit = 60s) {
    bool done = false;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) {
        done = true;
        io.stop();
        if (e) {
            ADD_FAILURE() << "the test coroutine threw";
        }
    });
    io.restart();
    io.run_for(limit);
    return done;
}

// Waits until `pred()` holds, checking every 10 ms; false at the deadline.
asio::awaitable<bool> wait_until(std::function<bool()> pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return false;
        }
        t.expires_after(10ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    co_return true;
}

// Everything the kernel reported, collected by the client's callbacks.
struct recorder {
    std::vector<wire::hit_record> hits;
    std::vector<channel::stop_info> stops;
    std::vector<channel::exit_info> exits;
    std::vector<channel::exec_info> execs;
    std::vector<wire::drops_event> drops;

    channel::event_handlers handlers() {
        channel::event_handlers h;
        h.on_hits = [this](std::span<const wire::hit_record> r) {
            hits.insert(hits.end(), r.begin(), r.end());
        };
        h.on_stop = [this](const channel::stop_info& s) { stops.push_back(s); };
        h.on_exit = [this](const channel::exit_info& e) { exits.push_back(e); };
        h.on_exec = [this](const channel::exec_info& e) { execs.push_back(e); };
        h.on_drops = [this](const wire::drops_event& d) { drops.push_back(d); };
        return h;
    }
    bool exited(uint32_t pid) const {
        for (const auto& e : exits) {
            if (e.pid == pid) {
                return true;
            }
        }
        return false;
    }
    const channel::stop_info* stop_of(uint32_t pid, wire::stop_reason reason) const {
        for (auto it = stops.rbegin(); it != stops.rend(); ++it) {
            if (it->pid == pid && it->reason == reason) {
                return &*it;
            }
        }
        return nullptr;
    }
};

} // namespace

TEST(ChannelAgent, FibTraceEntryAndReturnLosesNothing) {
    auto fib = load_program("fib");
    ASSERT_TRUE(fib);
    uint64_t fib_addr = function_address(*fib, "fib");
    ASSERT_NE(fib_addr, 0u);
    auto original = fib->text_at(fib_addr);
    ASSERT_GE(original.size(), 4u);

    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client c(io, {}, rec.handlers());

    channel::call_result<channel::hello_info> hello;
    channel::call_result<std::vector<channel::process_entry>> processes;
    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<uint32_t> entry_probe, return_probe;
    channel::call_result<std::vector<channel::probe_entry>> listed, listed_after;
    channel::call_result<void> resumed, removed1, removed2;
    channel::call_result<std::vector<uint8_t>> text_after;
    bool exited = false, all_hits = false;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        hello = co_await c.open(guest.agent_socket());
        if (!hello.has_value()) {
            co_return;
        }
        processes = co_await c.process_list();
        spawned = co_await c.process_spawn("/bin/fib 15", true);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        co_await wait_until([&] { return rec.stop_of(pid, wire::stop_reason::spawned); }, 10s);
        entry_probe = co_await c.probe_add("/bin/fib", fib_addr, wire::probe_kind::entry,
                                           wire::probe_mode::trace);
        return_probe = co_await c.probe_add("/bin/fib", fib_addr, wire::probe_kind::ret,
                                            wire::probe_mode::trace);
        resumed = co_await c.thread_resume(pid, 0);
        exited = co_await wait_until([&] { return rec.exited(pid); }, 40s);
        all_hits = co_await wait_until([&] { return rec.hits.size() >= 2 * 1973; }, 20s);
        listed = co_await c.probe_list();
        removed1 = co_await c.probe_remove(*entry_probe);
        removed2 = co_await c.probe_remove(*return_probe);
        listed_after = co_await c.probe_list();
        // The text of a new fib has the original bytes at fib: nothing left behind.
        auto again = co_await c.process_spawn("/bin/fib 3", true);
        if (again.has_value()) {
            text_after = co_await c.mem_read(again->pid, fib_addr, 16);
            (void)co_await c.thread_resume(again->pid, 0);
        }
    });
    ASSERT_TRUE(finished) << guest.console();

    ASSERT_TRUE(hello.has_value()) << channel::describe(hello) << guest.console();
    EXPECT_TRUE(processes.has_value()) << channel::describe(processes);
    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned) << guest.console();
    ASSERT_TRUE(entry_probe.has_value()) << channel::describe(entry_probe);
    ASSERT_TRUE(return_probe.has_value()) << channel::describe(return_probe);
    EXPECT_TRUE(resumed.has_value()) << channel::describe(resumed);
    EXPECT_TRUE(exited) << guest.console();
    EXPECT_TRUE(all_hits) << rec.hits.size() << " hits\n" << guest.console();

    size_t entries = 0, returns = 0;
    bool outermost_return = false;
    for (size_t i = 0; i < rec.hits.size(); i++) {
        const auto& h = rec.hits[i];
        if (i > 0) {
            EXPECT_EQ(h.seq, rec.hits[i - 1].seq + 1) << "gap at record " << i;
        }
        EXPECT_EQ(h.pid, spawned->pid);
        if (h.probe_id == *entry_probe) {
            entries++;
            EXPECT_EQ(h.kind, uint8_t(wire::probe_kind::entry));
            EXPECT_EQ(h.pc, fib_addr);
        } else if (h.probe_id == *return_probe) {
            returns++;
            EXPECT_EQ(h.kind, uint8_t(wire::probe_kind::ret));
            EXPECT_TRUE(h.flags & wire::hit_flag_ret_valid);
            outermost_return |= h.ret == 610; // fib(15)
        }
    }
    EXPECT_EQ(entries, 1973u);
    EXPECT_EQ(returns, 1973u);
    EXPECT_TRUE(outermost_return);
    EXPECT_EQ(c.stats().seq_gaps, 0u);
    EXPECT_EQ(c.stats().hits_dropped, 0u);
    for (const auto& d : rec.drops) {
        EXPECT_EQ(d.hits_dropped, 0u);
    }

    ASSERT_TRUE(listed.has_value()) << channel::describe(listed);
    ASSERT_EQ(listed->size(), 2u);
    for (const auto& p : *listed) {
        EXPECT_EQ(p.path, "/bin/fib");
        EXPECT_EQ(p.address, fib_addr);
        EXPECT_EQ(p.hits, 1973u);
    }
    EXPECT_TRUE(removed1.has_value() && removed2.has_value());
    ASSERT_TRUE(listed_after.has_value());
    EXPECT_TRUE(listed_after->empty());
    ASSERT_TRUE(text_after.has_value()) << channel::describe(text_after);
    EXPECT_TRUE(std::equal(text_after->begin(), text_after->end(), original.begin()));
}

TEST(ChannelAgent, StopModeRegistersMemoryAndStep) {
    auto fib = load_program("fib");
    ASSERT_TRUE(fib);
    uint64_t fib_addr = function_address(*fib, "fib");
    auto original = fib->text_at(fib_addr);
    ASSERT_GE(original.size(), 4u);
    uint64_t insn_len = (original[0] & 3) == 3 ? 4 : 2;

    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client c(io, {}, rec.handlers());

    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<uint32_t> probe;
    channel::call_result<channel::register_values> regs, regs_after_step;
    channel::call_result<std::vector<uint8_t>> text;
    channel::call_result<std::vector<channel::thread_entry>> threads;
    channel::call_result<void> step, removed;
    channel::call_result<std::vector<uint8_t>> kernel_read;
    channel::call_result<void> kernel_write;
    channel::call_result<std::vector<uint8_t>> unknown_pid;
    channel::call_result<uint32_t> unknown_program, misaligned;
    bool stopped = false, stepped = false, exited = false;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value()) {
            co_return;
        }
        spawned = co_await c.process_spawn("/bin/fib 5", true);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        probe = co_await c.probe_add("/bin/fib", fib_addr, wire::probe_kind::entry,
                                     wire::probe_mode::stop, pid);
        (void)co_await c.thread_resume(pid, 0);
        stopped =
            co_await wait_until([&] { return rec.stop_of(pid, wire::stop_reason::probe); }, 20s);
        if (!stopped) {
            co_return;
        }
        threads = co_await c.thread_list(pid);
        regs = co_await c.regs_get(pid, pid);
        text = co_await c.mem_read(pid, fib_addr, 16);
        step = co_await c.thread_step(pid, pid);
        stepped =
            co_await wait_until([&] { return rec.stop_of(pid, wire::stop_reason::step); }, 20s);
        regs_after_step = co_await c.regs_get(pid, pid);

        // Refusals: kernel memory, unknown pid, unknown program, a site inside an instruction.
        kernel_read = co_await c.mem_read(pid, 0x80200000, 16);
        std::vector<uint8_t> zeros(4, 0);
        kernel_write = co_await c.mem_write(pid, 0x80200000, zeros);
        unknown_pid = co_await c.mem_read(4242, fib_addr, 4);
        unknown_program = co_await c.probe_add("/bin/nothing", fib_addr, wire::probe_kind::insn,
                                               wire::probe_mode::trace);
        misaligned = co_await c.probe_add("/bin/fib", fib_addr + 1, wire::probe_kind::insn,
                                          wire::probe_mode::trace);

        removed = co_await c.probe_remove(*probe);
        (void)co_await c.thread_resume(pid, 0);
        exited = co_await wait_until([&] { return rec.exited(pid); }, 20s);
    });
    ASSERT_TRUE(finished) << guest.console();

    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned) << guest.console();
    ASSERT_TRUE(probe.has_value()) << channel::describe(probe);
    ASSERT_TRUE(stopped) << guest.console();
    const channel::stop_info* s = rec.stop_of(spawned->pid, wire::stop_reason::probe);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->regs.pc, fib_addr);
    EXPECT_EQ(s->probe_id, *probe);
    ASSERT_TRUE(threads.has_value());
    ASSERT_EQ(threads->size(), 1u);
    EXPECT_EQ((*threads)[0].state, wire::thread_state::stopped);
    EXPECT_EQ((*threads)[0].stop_reason, wire::stop_reason::probe);
    ASSERT_TRUE(regs.has_value()) << channel::describe(regs);
    EXPECT_EQ(regs->pc, fib_addr);
    EXPECT_EQ(regs->x[10], 5u); // a0 = n of the outermost call
    ASSERT_TRUE(text.has_value()) << channel::describe(text);
    EXPECT_TRUE(std::equal(text->begin(), text->end(), original.begin()))
        << "memory under the breakpoint must read as the original instruction";
    EXPECT_TRUE(step.has_value()) << channel::describe(step);
    EXPECT_TRUE(stepped) << guest.console();
    ASSERT_TRUE(regs_after_step.has_value()) << channel::describe(regs_after_step);
    EXPECT_EQ(regs_after_step->pc, fib_addr + insn_len);

    EXPECT_EQ(status_of(kernel_read), wire::status::permission_denied)
        << channel::describe(kernel_read);
    EXPECT_EQ(status_of(kernel_write), wire::status::permission_denied);
    EXPECT_EQ(status_of(unknown_pid), wire::status::no_such_process);
    EXPECT_EQ(status_of(unknown_program), wire::status::no_such_program);
    EXPECT_EQ(errc_of(misaligned), channel::call_errc::kernel_status);
    EXPECT_TRUE(status_of(misaligned) == int32_t(ruprobes::error::addr_misaligned) ||
                status_of(misaligned) == int32_t(ruprobes::error::addr_not_boundary))
        << channel::describe(misaligned);
    EXPECT_TRUE(removed.has_value());
    EXPECT_TRUE(exited) << guest.console();
    EXPECT_NE(guest.console().find("fib(5) = 5"), std::string::npos) << guest.console();
}

TEST(ChannelAgent, GarbageAndReconnectKeepOrReleaseStoppedThreads) {
    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client c(io, {}, rec.handlers());
    recorder rec2;
    channel::client other(io, {.reset_on_first_hello = false}, rec2.handlers());

    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<uint64_t> ping_after_garbage;
    channel::call_result<channel::hello_info> same_again, new_host;
    channel::call_result<std::vector<channel::thread_entry>> kept, released;
    channel::call_result<void> killed;
    bool exited = false;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value()) {
            co_return;
        }
        spawned = co_await c.process_spawn("/bin/spin", false);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        (void)co_await c.thread_stop(pid, 0);
        co_await wait_until([&] { return rec.stop_of(pid, wire::stop_reason::requested); }, 10s);

        // Garbage, a truncated header and a frame with a bad CRC, then a good request.
        std::vector<uint8_t> noise = {'n', 'o', 'i', 's', 'e', 'R', 'U', 'P', 'W', 1, 0};
        c.send_raw(noise);
        std::vector<uint8_t> bad(wire::max_frame);
        bad.resize(wire::encode(bad, 999, wire::ping_request{.cookie = 1}));
        bad[17] ^= 0x10;
        c.send_raw(bad);
        ping_after_garbage = co_await c.ping(5);

        // The same host reconnects: the thread stays stopped for it.
        c.close();
        same_again = co_await c.open(guest.agent_socket());
        kept = co_await c.thread_list(pid);
        c.close();

        // A different host (new session id, no reset): threads stopped for the old one run.
        new_host = co_await other.open(guest.agent_socket());
        released = co_await other.thread_list(pid);
        killed = co_await other.process_kill(pid);
        exited = co_await wait_until([&] { return rec2.exited(pid); }, 20s);
    });
    ASSERT_TRUE(finished) << guest.console();

    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned) << guest.console();
    ASSERT_TRUE(ping_after_garbage.has_value())
        << channel::describe(ping_after_garbage) << guest.console();
    ASSERT_TRUE(same_again.has_value()) << channel::describe(same_again);
    EXPECT_FALSE(same_again->rebooted);
    EXPECT_EQ(same_again->stopped_threads, 1u);
    ASSERT_TRUE(kept.has_value() && kept->size() == 1);
    EXPECT_EQ((*kept)[0].state, wire::thread_state::stopped);
    ASSERT_TRUE(new_host.has_value()) << channel::describe(new_host);
    EXPECT_EQ(new_host->stopped_threads, 0u);
    ASSERT_TRUE(released.has_value() && released->size() == 1);
    EXPECT_EQ((*released)[0].state, wire::thread_state::running);
    EXPECT_TRUE(killed.has_value()) << channel::describe(killed);
    EXPECT_TRUE(exited) << guest.console();
}

TEST(ChannelAgent, LeaseExpiryResumesStoppedThreads) {
    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client_options leased;
    leased.session_id = 0x5E55;
    leased.lease_ms = 1000; // long enough that a loaded machine does not end it early
    channel::client c(io, leased, rec.handlers());
    channel::client_options same_session;
    same_session.session_id = 0x5E55;
    same_session.reset_on_first_hello = false;
    recorder rec2;
    channel::client later(io, same_session, rec2.handlers());

    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<std::vector<channel::thread_entry>> while_pinged, after_expiry;
    channel::call_result<channel::hello_info> hello_again;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value()) {
            co_return;
        }
        spawned = co_await c.process_spawn("/bin/spin", true);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        // The client's pings keep the session alive well past the lease.
        asio::steady_timer t(io);
        t.expires_after(2500ms);
        co_await t.async_wait(asio::use_awaitable);
        while_pinged = co_await c.thread_list(pid);
        // The host goes silent: after the lease the kernel lets the thread run.
        c.close();
        t.expires_after(4s);
        co_await t.async_wait(asio::use_awaitable);
        hello_again = co_await later.open(guest.agent_socket());
        after_expiry = co_await later.thread_list(pid);
        (void)co_await later.process_kill(pid);
    });
    ASSERT_TRUE(finished) << guest.console();
    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned) << guest.console();
    ASSERT_TRUE(while_pinged.has_value() && while_pinged->size() == 1);
    EXPECT_EQ((*while_pinged)[0].state, wire::thread_state::stopped);
    ASSERT_TRUE(hello_again.has_value()) << channel::describe(hello_again);
    EXPECT_EQ(hello_again->stopped_threads, 0u);
    ASSERT_TRUE(after_expiry.has_value() && after_expiry->size() == 1);
    EXPECT_EQ((*after_expiry)[0].state, wire::thread_state::running);
    EXPECT_NE(guest.console().find("lease expired"), std::string::npos) << guest.console();
}

TEST(ChannelAgent, HitStreamSurvivesGarbageAndAReconnectWithNothingUnaccounted) {
    auto loop = load_program("loop");
    ASSERT_TRUE(loop);
    uint64_t step_addr = function_address(*loop, "step");
    ASSERT_NE(step_addr, 0u);
    constexpr uint64_t calls = 30000;

    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client c(io, {}, rec.handlers());

    channel::call_result<channel::spawned_process> spawned;
    channel::call_result<uint32_t> probe;
    channel::call_result<channel::hello_info> again;
    bool exited = false, accounted = false;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value()) {
            co_return;
        }
        spawned = co_await c.process_spawn("/bin/loop " + std::to_string(calls), true);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        probe = co_await c.probe_add("/bin/loop", step_addr, wire::probe_kind::entry,
                                     wire::probe_mode::trace);
        (void)co_await c.thread_resume(pid, 0);
        co_await wait_until([&] { return rec.hits.size() >= 2000; }, 30s);
        std::vector<uint8_t> noise(300, 'R');
        noise[17] = 'U';
        c.send_raw(noise);
        co_await wait_until([&] { return rec.hits.size() >= 4000; }, 30s);
        c.close(); // mid-run: frames in flight are lost on this connection
        again = co_await c.open(guest.agent_socket());
        exited = co_await wait_until([&] { return rec.exited(pid); }, 60s);
        accounted = co_await wait_until(
            [&] { return rec.hits.size() + c.stats().hits_dropped >= calls; }, 30s);
        (void)co_await c.probe_remove(*probe);
    });
    ASSERT_TRUE(finished) << guest.console();
    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned) << guest.console();
    ASSERT_TRUE(probe.has_value()) << channel::describe(probe);
    ASSERT_TRUE(again.has_value()) << channel::describe(again);
    EXPECT_FALSE(again->rebooted);
    EXPECT_TRUE(exited) << guest.console();
    auto st = c.stats();
    EXPECT_TRUE(accounted) << rec.hits.size() << " received, " << st.hits_dropped << " dropped, "
                           << st.seq_gaps << " missing, " << st.duplicate_records
                           << " duplicates, last seq "
                           << (rec.hits.empty() ? 0 : rec.hits.back().seq) << "\n"
                           << guest.console();
    for (size_t i = 1; i < rec.hits.size(); i++) {
        ASSERT_EQ(rec.hits[i].seq, rec.hits[i - 1].seq + 1) << "at record " << i;
    }
    EXPECT_EQ(st.seq_gaps, 0u);
    EXPECT_EQ(rec.hits.size() + st.hits_dropped, calls)
        << "every call is either delivered once or counted as dropped by the kernel";
    EXPECT_NE(guest.console().find("loop: 30000 iterations"), std::string::npos) << guest.console();
}

TEST(ChannelAgent, KernelRestartIsSeenAsANewBoot) {
    temp_dir dir1, dir2;
    auto first = std::make_unique<qemu_guest>(dir1, staying_guest());
    asio::io_context io;
    recorder rec;
    std::vector<std::string> disconnects;
    auto handlers = rec.handlers();
    handlers.on_disconnect = [&](const std::string& why) { disconnects.push_back(why); };
    channel::client c(io, {}, handlers);

    channel::call_result<channel::hello_info> before, after;
    bool noticed = false;
    std::unique_ptr<qemu_guest> second;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        before = co_await c.open(first->agent_socket());
        if (!before.has_value()) {
            co_return;
        }
        first->process().stop(); // QEMU goes away with its socket
        noticed = co_await wait_until([&] { return !c.connected(); }, 20s);
        second = std::make_unique<qemu_guest>(dir2, staying_guest());
        after = co_await c.open(second->agent_socket());
    });
    ASSERT_TRUE(finished);
    ASSERT_TRUE(before.has_value()) << channel::describe(before) << first->console();
    EXPECT_TRUE(noticed);
    EXPECT_EQ(disconnects.size(), 1u);
    ASSERT_TRUE(second);
    ASSERT_TRUE(after.has_value()) << channel::describe(after) << second->console();
    EXPECT_TRUE(after->rebooted);
    EXPECT_NE(after->boot_id, before->boot_id);
}

// fp_regs_get / fp_regs_set: the F/D registers of a thread stopped at scaled(x, factor) in
// /bin/fpu 10 (x = H(10) in fa0, factor = 1e6 in fa1; fflags has NX from the divisions). Writing
// fa1 = 2.0 changes what the program prints. A running thread's are refused.
TEST(ChannelAgent, FpRegistersOfAStoppedThreadReadAndWritten) {
    auto fpu = load_program("fpu");
    ASSERT_TRUE(fpu);
    uint64_t scaled_addr = function_address(*fpu, "scaled");
    ASSERT_NE(scaled_addr, 0u);

    temp_dir dir;
    qemu_guest guest(dir, staying_guest());
    asio::io_context io;
    recorder rec;
    channel::client c(io, {}, rec.handlers());

    channel::call_result<channel::spawned_process> spawned, spinner;
    channel::call_result<uint32_t> probe;
    channel::call_result<channel::fp_register_values> before, after, running;
    channel::call_result<void> set;
    bool stopped = false, exited = false;
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value()) {
            co_return;
        }
        spinner = co_await c.process_spawn("/bin/spin", false);
        if (spinner.has_value()) {
            running = co_await c.fp_regs_get(spinner->pid, spinner->pid);
            (void)co_await c.process_kill(spinner->pid);
        }
        spawned = co_await c.process_spawn("/bin/fpu 10", true);
        if (!spawned.has_value()) {
            co_return;
        }
        uint32_t pid = spawned->pid;
        probe = co_await c.probe_add("/bin/fpu", scaled_addr, wire::probe_kind::entry,
                                     wire::probe_mode::stop, pid);
        (void)co_await c.thread_resume(pid, 0);
        stopped =
            co_await wait_until([&] { return rec.stop_of(pid, wire::stop_reason::probe); }, 20s);
        if (!stopped) {
            co_return;
        }
        before = co_await c.fp_regs_get(pid, pid);
        channel::fp_register_values v;
        v.f[11] = 0x4000000000000000; // 2.0
        v.f[12] = 0x1234;             // not in the mask: must stay
        set = co_await c.fp_regs_set(pid, pid, 1ull << 11, v);
        after = co_await c.fp_regs_get(pid, pid);
        (void)co_await c.probe_remove(*probe);
        (void)co_await c.thread_resume(pid, 0);
        exited = co_await wait_until([&] { return rec.exited(pid); }, 20s);
    });
    ASSERT_TRUE(finished) << guest.console();

    ASSERT_TRUE(spinner.has_value()) << channel::describe(spinner);
    EXPECT_EQ(status_of(running), wire::status::not_stopped) << channel::describe(running);
    ASSERT_TRUE(spawned.has_value()) << channel::describe(spawned);
    ASSERT_TRUE(probe.has_value()) << channel::describe(probe);
    ASSERT_TRUE(stopped) << guest.console();
    ASSERT_TRUE(before.has_value()) << channel::describe(before);
    EXPECT_EQ(before->f[10], 0x40076e86e86e86e8u); // H(10) = 2.9289682539682538
    EXPECT_EQ(before->f[11], 0x412e848000000000u); // 1e6
    EXPECT_EQ(before->fcsr, 0x1u);                 // NX, round to nearest
    EXPECT_TRUE(set.has_value()) << channel::describe(set);
    ASSERT_TRUE(after.has_value()) << channel::describe(after);
    EXPECT_EQ(after->f[11], 0x4000000000000000u);
    EXPECT_EQ(after->f[12], before->f[12]);
    EXPECT_EQ(after->fcsr, before->fcsr);
    EXPECT_TRUE(exited) << guest.console();
    EXPECT_TRUE(guest.wait_for_console("H(10) * 1e6 = 5", 10s)) << guest.console();
}
