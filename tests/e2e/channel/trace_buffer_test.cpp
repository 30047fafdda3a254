// The agent's trace buffer through the host client library against the real kernel in QEMU:
// a tracepoint on fib whose actions collect memory and count into a trace state variable, the
// frames and the status read back over the wire, and the refusals of bad requests.
#include "channel/channel_client.hpp"
#include "ruprobes/wire/trace_frame.hpp"
#include "ruprobes_test/paths.hpp"
#include "ruprobes_test/qemu_guest.hpp"
#include "symbols/program_symbols.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace channel = ruprobes::channel;
namespace wire = ruprobes::wire;

namespace {

bool run(asio::io_context& io, std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(io, body(), [&](std::exception_ptr) {
        done = true;
        io.stop();
    });
    io.run_for(60s);
    return done;
}

// An expression list of the wire (u16 length + bytecode each).
std::vector<uint8_t> list_of(const std::vector<std::vector<uint8_t>>& exprs) {
    std::vector<uint8_t> out;
    for (const auto& e : exprs) {
        out.push_back(static_cast<uint8_t>(e.size()));
        out.push_back(static_cast<uint8_t>(e.size() >> 8));
        out.insert(out.end(), e.begin(), e.end());
    }
    return out;
}

} // namespace

TEST(ChannelTraceBuffer, FibFramesCollectMemoryAndCountIntoAVariable) {
    auto r =
        ruprobes::symbols::program_symbols::load(std::string(ruprobes::test::user_dir) + "/fib");
    ASSERT_TRUE(r.has_value());
    auto fib = *r;
    auto f = fib->find_function("fib");
    ASSERT_TRUE(f.has_value());
    uint64_t fib_addr = f->address;

    ruprobes::test::temp_dir dir;
    ruprobes::test::guest_options o;
    o.agent_channel = true;
    o.append = "ruprobes.stay";
    ruprobes::test::qemu_guest guest(dir, o);
    asio::io_context io;
    bool exited = false;
    channel::event_handlers h;
    h.on_exit = [&](const channel::exit_info&) { exited = true; };
    channel::client c(io, {}, h);

    const std::string path = "/bin/fib";
    // 8 bytes at sp (reg 2; trace_quick 8), then $1 = $1 + 1 recorded (getv, add, setv, tracev).
    const auto actions = list_of({{0x26, 0, 2, 0x0d, 8, 0x27},
                                  {0x2c, 0, 1, 0x22, 1, 0x02, 0x2d, 0, 1, 0x29, 0x2e, 0, 1, 0x27}});
    const auto bad_actions = list_of({{0xff, 0x27}});
    channel::call_result<uint32_t> bad_add, bad_start, id, started;
    channel::call_result<channel::trace_frame_info> before, frame3, past;
    channel::call_result<channel::trace_status_info> status;
    // (Built outside the coroutine: g++ 12 mishandles aggregate temporaries inside one.)
    auto req = [&](uint32_t pid, const std::vector<uint8_t>& acts) {
        wire::tracepoint_add_request m;
        m.pid = pid;
        m.number = 4;
        m.address = fib_addr;
        m.registers = 1u << 10;
        m.path = wire::bytes(reinterpret_cast<const uint8_t*>(path.data()), path.size());
        m.actions = wire::bytes(acts.data(), acts.size());
        return m;
    };
    const std::vector<std::pair<uint32_t, uint64_t>> bad_vars{{64, 0}}, vars{{1, 100}};
    bool finished = run(io, [&]() -> asio::awaitable<void> {
        if (!(co_await c.open(guest.agent_socket())).has_value())
            co_return;
        auto p = co_await c.process_spawn("/bin/fib 10", true);
        if (!p.has_value())
            co_return;
        bad_add = co_await c.tracepoint_add(req(p->pid, bad_actions));
        before = co_await c.trace_frame_read(0);
        bad_start = co_await c.trace_start(0, bad_vars);
        id = co_await c.tracepoint_add(req(p->pid, actions));
        started = co_await c.trace_start(0, vars);
        co_await c.thread_resume(p->pid, p->tid);
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (int i = 0; i < 2000 && !exited; i++) {
            t.expires_after(10ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        co_await c.trace_stop();
        status = co_await c.trace_status();
        frame3 = co_await c.trace_frame_read(3);
        past = co_await c.trace_frame_read(177);
    });
    ASSERT_TRUE(finished);
    EXPECT_EQ(bad_add ? 0 : bad_add.error().status, 50)
        << channel::describe(bad_add);                                              // expr_invalid
    EXPECT_EQ(before ? 0 : before.error().status, 21) << channel::describe(before); // not_found
    EXPECT_EQ(bad_start ? 0 : bad_start.error().status, 57)
        << channel::describe(bad_start); // expr_variable
    ASSERT_TRUE(id.has_value()) << channel::describe(id);
    ASSERT_TRUE(started.has_value()) << channel::describe(started);
    EXPECT_EQ(*started, 256u * 1024);
    EXPECT_TRUE(exited);
    ASSERT_TRUE(status.has_value()) << channel::describe(status);
    EXPECT_FALSE(status->running);
    EXPECT_EQ(status->stop_reason, wire::trace_stop_reason::requested);
    EXPECT_EQ(status->frames, 177u);
    EXPECT_EQ(status->created, 177u);
    ASSERT_EQ(status->variables.size(), 1u);
    EXPECT_EQ(status->variables[0], (std::pair<uint32_t, uint64_t>{1, 277}));
    // Frame 3: fib(7), the fourth call; $1 was 100 + 4 after it.
    ASSERT_TRUE(frame3.has_value()) << channel::describe(frame3);
    EXPECT_EQ(frame3->tracepoint, 4u);
    wire::trace_block_reader blocks(frame3->data);
    auto regs = blocks.next();
    ASSERT_TRUE(regs && regs->tag == wire::trace_block_registers);
    EXPECT_EQ(wire::trace_block_reader::register_value(*regs, 10), 7u);
    EXPECT_EQ(wire::trace_block_reader::register_value(*regs, 32), fib_addr);
    auto mem = blocks.next();
    ASSERT_TRUE(mem && mem->tag == wire::trace_block_memory);
    EXPECT_EQ(mem->address, wire::trace_block_reader::register_value(*regs, 2));
    EXPECT_EQ(mem->memory.size(), 8u);
    auto var = blocks.next();
    ASSERT_TRUE(var && var->tag == wire::trace_block_variable);
    EXPECT_EQ(var->number, 1u);
    EXPECT_EQ(var->value, 104u);
    EXPECT_FALSE(blocks.next().has_value());
    EXPECT_FALSE(blocks.failed());
    EXPECT_EQ(past ? 0 : past.error().status, 21) << channel::describe(past);
}
