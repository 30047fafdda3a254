// ruprobes command-line parsing: commands, probe targets, global options anywhere, errors.
#include "cli/cli_options.hpp"
#include "cli/commands.hpp"

#include <gtest/gtest.h>

namespace ruprobes::cli {
namespace {

cli_options parse_ok(std::vector<std::string> args) {
    auto r = parse_command_line(args);
    EXPECT_TRUE(r.has_value()) << r.error();
    return r.value_or(cli_options{});
}

std::string parse_error(std::vector<std::string> args) {
    auto r = parse_command_line(args);
    EXPECT_FALSE(r.has_value());
    return r ? std::string() : r.error();
}

TEST(cli_options, probes_add_symbol_with_kind_and_pid) {
    auto o = parse_ok({"probes", "add", "fib:fib", "--return", "--pid", "7"});
    EXPECT_EQ(o.command, command_kind::probes_add);
    EXPECT_EQ(o.target.program, "/bin/fib");
    EXPECT_EQ(o.target.symbol, "fib");
    EXPECT_TRUE(o.target.address.empty());
    EXPECT_EQ(o.kind, "return");
    ASSERT_TRUE(o.pid.has_value());
    EXPECT_EQ(*o.pid, 7);
    EXPECT_EQ(parse_ok({"probe", "add", "/bin/loop:step", "--kind=insn"}).kind, "insn");
    EXPECT_EQ(parse_ok({"probes", "add", "fib:fib"}).kind, "");
    EXPECT_FALSE(parse_ok({"probes", "add", "fib:fib"}).condition.has_value());
}

TEST(cli_options, probes_add_condition_is_passed_as_written) {
    auto o = parse_ok({"probes", "add", "fib:fib", "--if", "a0 == 3 && *(u8 *)a1 > 0"});
    ASSERT_TRUE(o.condition.has_value());
    EXPECT_EQ(*o.condition, "a0 == 3 && *(u8 *)a1 > 0");
    EXPECT_EQ(*parse_ok({"probes", "add", "fib:fib", "--if=ret == 1", "--return"}).condition,
              "ret == 1");
    EXPECT_NE(parse_error({"probes", "add", "fib:fib", "--if"}).find("--if"), std::string::npos);
}

TEST(cli_options, probes_add_fetch_items_become_probe_add_elements) {
    auto o = parse_ok({"probes", "add", "hello:write", "--fetch", "a0,str:a1", "--fetch",
                       "mem:sp+16:8", "--fetch=str:a1+6:4"});
    EXPECT_EQ(o.fetch, (std::vector<std::string>{"a0", "str:a1", "mem:sp+16:8", "str:a1+6:4"}));
    auto params = probe_add_params(o);
    EXPECT_EQ(params["fetch"], json::parse(R"(["a0", {"str": "a1", "max": 64},
        {"mem": "sp+16", "len": 8}, {"str": "a1+6", "max": 4}])"));
    // A count that is no number goes as written: the daemon's refusal names the element.
    auto bad = parse_ok({"probes", "add", "hello:write", "--fetch", "mem:a1:x"});
    EXPECT_EQ(probe_add_params(bad)["fetch"][0]["len"], "x");
    EXPECT_FALSE(probe_add_params(parse_ok({"probes", "add", "fib:fib"})).contains("fetch"));
}

TEST(cli_options, count_and_hist_of_are_aggregations) {
    auto c = parse_ok({"count", "fib:fib", "--by", "a0", "--run", "fib 15", "--if", "a0 > 1"});
    EXPECT_EQ(c.command, command_kind::aggregate);
    EXPECT_EQ(c.target.symbol, "fib");
    EXPECT_EQ(c.by, "a0");
    EXPECT_TRUE(c.of.empty());
    EXPECT_EQ(c.run, (std::vector<std::string>{"/bin/fib", "15"}));
    EXPECT_EQ(*c.condition, "a0 > 1");
    auto h = parse_ok({"hist", "fib:fib", "--of", "ret"});
    EXPECT_EQ(h.command, command_kind::aggregate);
    EXPECT_EQ(h.kind, "return"); // ret implies the return probe
    auto l = parse_ok({"hist", "/bin/loop:step", "--of", "a1", "--linear", "-10:90:10"});
    ASSERT_TRUE(l.linear);
    auto buckets = parse_linear(*l.linear);
    ASSERT_TRUE(buckets);
    EXPECT_EQ(buckets->min, -10);
    EXPECT_EQ(buckets->max, 90);
    EXPECT_EQ(buckets->step, 10);
    // The duration histogram stays as it was.
    EXPECT_EQ(parse_ok({"hist", "fib:fib"}).command, command_kind::hist);
    EXPECT_NE(parse_error({"hist", "fib:fib", "--of", "a0", "--linear", "5:5:1"}).find("--linear"),
              std::string::npos);
    EXPECT_NE(parse_error({"hist", "fib:fib", "--by", "a0"}).find("need --of"), std::string::npos);
    EXPECT_NE(parse_error({"count", "fib:fib", "--by", "ret", "--entry"}).find("--return"),
              std::string::npos);
    EXPECT_NE(parse_error({"count", "fib:fib", "--of", "a0"}).find("unknown option"),
              std::string::npos);
}

TEST(cli_options, probe_targets_address_line_and_paths) {
    std::string error;
    auto t = parse_probe_target("fib:0x10078", error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->program, "/bin/fib");
    EXPECT_EQ(t->address, "0x10078");
    t = parse_probe_target("/bin/fib:65656", error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->program, "/bin/fib");
    EXPECT_EQ(t->address, "65656");
    t = parse_probe_target("fib:fib.c:9", error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->line, "fib.c:9");
    EXPECT_TRUE(t->symbol.empty());
    t = parse_probe_target("fib:user/programs/fib.c:12", error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->line, "user/programs/fib.c:12");
    t = parse_probe_target("fib:0xfoo", error); // not hex digits: a symbol name
    ASSERT_TRUE(t);
    EXPECT_EQ(t->symbol, "0xfoo");
    EXPECT_FALSE(parse_probe_target("fib", error));
    EXPECT_NE(error.find("PROGRAM:SYMBOL"), std::string::npos);
    EXPECT_FALSE(parse_probe_target(":fib", error));
    EXPECT_FALSE(parse_probe_target("fib:", error));
    EXPECT_FALSE(parse_probe_target("fib:fib.c:x", error));
    EXPECT_FALSE(parse_probe_target("fib:fib.c:0", error));
    EXPECT_EQ(guest_program_path("ticker"), "/bin/ticker");
    EXPECT_EQ(guest_program_path("/sbin/x"), "/sbin/x");
}

TEST(cli_options, global_options_anywhere) {
    auto o = parse_ok({"ps", "--json", "--connect", "localhost:5000"});
    EXPECT_EQ(o.command, command_kind::ps);
    EXPECT_TRUE(o.json);
    EXPECT_EQ(o.host, "localhost");
    EXPECT_EQ(o.port, 5000);
    o = parse_ok({"--connect=:4343", "--timeout", "2.5", "status"});
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 4343);
    EXPECT_DOUBLE_EQ(o.timeout_s, 2.5);
    o = parse_ok({"status"});
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 4242);
    EXPECT_FALSE(o.json);
    EXPECT_NE(parse_error({"--connect", "nohost", "ps"}).find("HOST:PORT"), std::string::npos);
    EXPECT_NE(parse_error({"--connect", "h:70000", "ps"}).find("HOST:PORT"), std::string::npos);
    EXPECT_NE(parse_error({"ps", "--connect"}).find("needs a value"), std::string::npos);
    std::string host;
    uint16_t port = 0;
    EXPECT_TRUE(parse_host_port("[::1]:4242", host, port));
    EXPECT_EQ(host, "::1");
}

TEST(cli_options, spawn_one_quoted_word_or_many) {
    auto o = parse_ok({"spawn", "/bin/fib 20"});
    EXPECT_EQ(o.command, command_kind::spawn);
    EXPECT_EQ(o.argv, (std::vector<std::string>{"/bin/fib", "20"}));
    o = parse_ok({"spawn", "--stopped", "ticker", "50", "-x"});
    EXPECT_TRUE(o.stopped);
    EXPECT_EQ(o.argv, (std::vector<std::string>{"/bin/ticker", "50", "-x"}));
    EXPECT_NE(parse_error({"spawn"}).find("missing"), std::string::npos);
    EXPECT_NE(parse_error({"spawn", " "}).find("empty"), std::string::npos);
}

TEST(cli_options, watch_and_hist_options) {
    auto o = parse_ok({"watch", "--duration", "3", "--probe", "1", "--probe=4", "--interval=0.5"});
    EXPECT_EQ(o.command, command_kind::watch);
    ASSERT_TRUE(o.duration);
    EXPECT_DOUBLE_EQ(*o.duration, 3);
    ASSERT_TRUE(o.interval);
    EXPECT_DOUBLE_EQ(*o.interval, 0.5);
    EXPECT_EQ(o.probes, (std::vector<int64_t>{1, 4}));
    EXPECT_FALSE(parse_ok({"watch"}).duration);
    o = parse_ok({"hist", "fib:fib", "--duration", "2"});
    EXPECT_EQ(o.command, command_kind::hist);
    EXPECT_EQ(o.hist_probe, "fib:fib");
    EXPECT_EQ(parse_ok({"hist", "3"}).hist_probe, "3");
    EXPECT_NE(parse_error({"watch", "--duration", "0"}).find("--duration"), std::string::npos);
    EXPECT_NE(parse_error({"watch", "--duration", "x"}).find("--duration"), std::string::npos);
    EXPECT_NE(parse_error({"watch", "--probe", "a"}).find("--probe"), std::string::npos);
    EXPECT_NE(parse_error({"watch", "extra"}).find("unexpected argument 'extra'"),
              std::string::npos);
    EXPECT_NE(parse_error({"hist"}).find("missing"), std::string::npos);
    EXPECT_NE(parse_error({"hist", "fib"}).find("probe id or PROGRAM:SYMBOL"), std::string::npos);
}

TEST(cli_options, ids_and_unknown_things) {
    auto o = parse_ok({"probes", "remove", "12"});
    EXPECT_EQ(o.command, command_kind::probes_remove);
    EXPECT_EQ(o.id, 12);
    o = parse_ok({"kill", "5"});
    EXPECT_EQ(o.command, command_kind::kill);
    EXPECT_EQ(o.id, 5);
    EXPECT_EQ(parse_ok({"probes", "list"}).command, command_kind::probes_list);
    EXPECT_NE(parse_error({"kill", "x"}).find("process id"), std::string::npos);
    EXPECT_NE(parse_error({"probes", "remove"}).find("missing"), std::string::npos);
    EXPECT_NE(parse_error({"probes", "frobnicate"}).find("unknown command"), std::string::npos);
    EXPECT_NE(parse_error({"probes"}).find("add, list or remove"), std::string::npos);
    EXPECT_NE(parse_error({"nosuch"}).find("unknown command 'nosuch'"), std::string::npos);
    EXPECT_NE(parse_error({"ps", "--bogus"}).find("unknown option '--bogus'"), std::string::npos);
    EXPECT_NE(parse_error({"probes", "add", "fib:fib", "--entry", "--return"}).find("choose one"),
              std::string::npos);
    EXPECT_NE(parse_error({"probes", "add", "fib:fib", "--pid", "-1"}).find("--pid"),
              std::string::npos);
}

TEST(cli_options, help_for_every_command_and_version) {
    auto o = parse_ok({"--help"});
    EXPECT_EQ(o.command, command_kind::help);
    EXPECT_EQ(o.help_topic, "");
    o = parse_ok({"probes", "add", "--help"});
    EXPECT_EQ(o.command, command_kind::help);
    EXPECT_EQ(o.help_topic, "probes add");
    o = parse_ok({"help", "probe", "list"});
    EXPECT_EQ(o.help_topic, "probes list");
    EXPECT_EQ(parse_ok({"watch", "-h"}).help_topic, "watch");
    EXPECT_EQ(parse_ok({"--version"}).command, command_kind::version);
    for (const char* topic : {"", "status", "ps", "spawn", "kill", "probes", "probes add",
                              "probes list", "probes remove", "watch", "hist"})
        EXPECT_FALSE(help_text(topic).empty()) << topic;
    EXPECT_TRUE(help_text("nosuch").empty());
    EXPECT_NE(help_text("").find("Exit status"), std::string::npos);
    EXPECT_NE(parse_error({"help", "nosuch"}).find("no such command"), std::string::npos);
}

// The help is generated from the declarations the parser uses: every flag a command accepts is in
// its help, under a usage line that names the whole command.
TEST(cli_options, help_lists_what_each_command_accepts) {
    struct command_flags {
        const char* topic;
        std::vector<std::string> args; // a command line that uses every flag
        std::vector<const char*> flags;
    };
    const command_flags commands[] = {
        {"probes add",
         {"probes", "add", "fib:fib", "--kind", "entry", "--pid", "3", "--if", "a0 > 1"},
         {"TARGET", "--entry", "--return", "--insn", "--kind", "--pid", "--if"}},
        {"spawn", {"spawn", "--stopped", "fib", "20"}, {"PROGRAM ARGS", "--stopped"}},
        {"watch",
         {"watch", "--duration", "1", "--interval", "1", "--probe", "2"},
         {"--duration", "--interval", "--probe"}},
        {"hist",
         {"hist", "fib:fib", "--of", "a0", "--by", "pid", "--linear", "0:10:1", "--if", "a0 > 1",
          "--run", "fib 5", "--insn"},
         {"PROBE|TARGET", "--of", "--by", "--linear", "--if", "--run", "--duration", "--interval",
          "--entry", "--return", "--insn"}},
        {"count",
         {"count", "fib:fib", "--by", "a0", "--if", "a0 > 1", "--duration", "2", "--return"},
         {"TARGET", "--by", "--if", "--run", "--duration", "--entry", "--return", "--insn"}},
        {"",
         {"--json", "--timeout", "3", "--connect", ":4000", "ps"},
         {"--connect", "--json", "--timeout", "--version", "--help", "Exit status"}},
    };
    for (const auto& c : commands) {
        parse_ok(c.args);
        std::string help = help_text(c.topic);
        EXPECT_NE(help.find("Usage: ruprobes" + std::string(*c.topic ? " " : "") + c.topic),
                  std::string::npos)
            << help;
        for (const char* flag : c.flags)
            EXPECT_NE(help.find(flag), std::string::npos) << c.topic << ": " << flag;
    }
    EXPECT_EQ(help_text("hist").find("--pid"), std::string::npos);
    EXPECT_EQ(help_text("probe add"), help_text("probes add"));
}

// Words after PROGRAM are the program's, even those that look like ruprobes' flags.
TEST(cli_options, spawn_words_after_the_program_are_its_arguments) {
    auto o = parse_ok({"--json", "spawn", "fib", "--json", "--help"});
    EXPECT_TRUE(o.json);
    EXPECT_EQ(o.command, command_kind::spawn);
    EXPECT_EQ(o.argv, (std::vector<std::string>{"/bin/fib", "--json", "--help"}));
}

} // namespace
} // namespace ruprobes::cli
