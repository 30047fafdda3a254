// uprobes_conformance_run over the host port: /bin/sum with a0 = 3 calls f four times; the
// callbacks start a process on the host machine and run its CPU until it stops or reaches the
// end of main (its "exit").
#include "engine_fixture.hpp"

namespace ruprobes::test {
namespace {

class conformance_test : public engine_test {
protected:
    struct kernel {
        conformance_test* test = nullptr;
        cpu thread;
        uint32_t next_pid = 10;
        bool stopped = false;
        bool resume_ok = true;
        int starts = 0;
    };

    static int64_t start(void* user, const char*) {
        auto* k = static_cast<kernel*>(user);
        uint32_t pid = k->next_pid++;
        if (k->test->machine.exec(pid, "/bin/sum") != 0)
            return -1;
        k->thread = k->test->thread_at(pid, pid, sum::main);
        k->thread.ctx.x[rv::a0] = 3;
        k->stopped = false;
        k->starts++;
        return pid;
    }

    static int run(void* user, int64_t pid, int* status) {
        auto* k = static_cast<kernel*>(user);
        k->test->machine.set_current(static_cast<uint32_t>(pid), static_cast<uint32_t>(pid));
        if (k->stopped)
            k->resume_ok = uprobes_resume(&k->thread.ctx) == UPROBES_TRAP_HANDLED && k->resume_ok;
        k->stopped = false;
        switch (k->thread.run(sum::end)) {
        case cpu::outcome::reached:
            k->test->machine.exit(static_cast<uint32_t>(pid));
            *status = static_cast<int>(k->thread.ctx.x[rv::a0] == 6 ? 0 : 1); // 3+2+1+0
            return 0;
        case cpu::outcome::stopped:
            k->stopped = true;
            return 1;
        default:
            return -1;
        }
    }

    uprobes_conformance_port port(kernel& k) {
        k.test = this;
        uprobes_conformance_port p = {};
        p.path = "/bin/sum";
        p.command = "/bin/sum 3";
        p.function = sum::f;
        p.calls = 4;
        p.user = &k;
        p.start = start;
        p.run = run;
        return p;
    }
};

TEST_F(conformance_test, a_correct_port_passes_every_check) {
    kernel k;
    uprobes_conformance_port p = port(k);
    uprobes_conformance_report report = {};
    EXPECT_EQ(uprobes_conformance_run(&p, &report), 0);
    EXPECT_EQ(report.failed_check, 0);
    EXPECT_EQ(report.entry_hits, 4u);
    EXPECT_EQ(report.return_hits, 4u);
    EXPECT_EQ(report.stops, 1u);
    EXPECT_EQ(k.starts, 2);
    EXPECT_TRUE(k.resume_ok);
    EXPECT_EQ(stats().probes_used, 0u) << "every probe unregistered";
}

TEST_F(conformance_test, wrong_counts_and_broken_ports_fail_with_the_check_number) {
    kernel k;
    uprobes_conformance_port p = port(k);
    p.calls = 5; // what the port claims, not what runs
    uprobes_conformance_report report = {};
    EXPECT_EQ(uprobes_conformance_run(&p, &report), 3);
    EXPECT_EQ(report.failed_check, 3);
    EXPECT_EQ(report.entry_hits, 4u);

    // A port whose text poke fails: exec cannot arm the probes, the run does not start.
    p = port(k);
    machine.fail_pokes = true;
    EXPECT_EQ(uprobes_conformance_run(&p, &report), 2);
    machine.fail_pokes = false;

    p.run = nullptr;
    EXPECT_EQ(uprobes_conformance_run(&p, &report), -UPROBES_E_INVALID_ARGUMENT);
    EXPECT_EQ(stats().probes_used, 0u);
}

} // namespace
} // namespace ruprobes::test
