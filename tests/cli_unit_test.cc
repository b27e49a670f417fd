// The admin tool's pieces in-process: the exit-code mapping, argument
// parsing, escaping and number formatting, and the progress reporter.
#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/cli/args.h"
#include "tools/cli/cli.h"
#include "tools/cli/command_table.h"
#include "tools/cli/format.h"
#include "tools/cli/progress.h"

namespace rocksmigrate::cli {
namespace {

using ::testing::HasSubstr;

TEST(ExitCodeTest, MapsEveryOutcomeAndStatusCode) {
  EXPECT_EQ(ExitCodeFor(Outcome::kDone), 0);
  EXPECT_EQ(ExitCodeFor(Outcome::kProblems), 1);
  EXPECT_EQ(ExitCodeFor(Outcome::kPending), 4);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 2);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::AbortedError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), 1);
}

absl::StatusOr<Invocation> Parse(
    std::vector<std::string> args,
    const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), "rocksmigrate");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseArgs(static_cast<int>(argv.size()), argv.data(),
                   [&env](const char* name) -> const char* {
                     auto it = env.find(name);
                     return it == env.end() ? nullptr : it->second.c_str();
                   });
}

TEST(ParseArgsTest, EnvironmentGivesDefaultsAndFlagsWin) {
  const std::map<std::string, std::string> env = {
      {"ROCKSMIGRATE_DB", "/srv/db"},
      {"ROCKSMIGRATE_MIGRATIONS", "/srv/migrations"},
      {"ROCKSMIGRATE_JSON", "1"}};
  auto from_env = Parse({"status"}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->db, "/srv/db");
  EXPECT_EQ(from_env->migrations_dir, "/srv/migrations");
  EXPECT_TRUE(from_env->migrations_given);
  EXPECT_TRUE(from_env->json);

  auto flags_win = Parse({"status", "--db", "d", "--migrations", "m"}, env);
  ASSERT_TRUE(flags_win.ok()) << flags_win.status();
  EXPECT_EQ(flags_win->db, "d");
  EXPECT_EQ(flags_win->migrations_dir, "m");

  for (const char* off : {"0", "false", "no", "off"}) {
    auto plain = Parse({"status"}, {{"ROCKSMIGRATE_JSON", off}});
    ASSERT_TRUE(plain.ok()) << off;
    EXPECT_FALSE(plain->json) << off;
  }
  // Empty variables count as unset.
  auto empty = Parse({"status"}, {{"ROCKSMIGRATE_DB", ""}});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->db.empty());
}

TEST(ParseArgsTest, BadJsonVariableIsNamed) {
  auto bad = Parse({"status"}, {{"ROCKSMIGRATE_JSON", "maybe"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("ROCKSMIGRATE_JSON is \"maybe\""));
  // --json on the command line wins over a bad variable too.
  EXPECT_TRUE(Parse({"status", "--json"}, {{"ROCKSMIGRATE_JSON", "maybe"}}).ok());
}

TEST(ParseArgsTest, AliasAndVersion) {
  auto alias = Parse({"--db", "d", "migration-status", "--check"});
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_EQ(alias->command, "status");
  EXPECT_TRUE(alias->Has("check"));
  auto version = Parse({"--version"});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_TRUE(version->version);
  auto health = Parse({"--db", "d", "health"});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->command, "health");
  EXPECT_FALSE(Parse({"--db", "d", "health", "--check"}).ok());
}

TEST(ParseArgsTest, GlobalFlagsAnywhere) {
  auto inv = Parse({"migrate", "--db", "d", "--to=3", "--json",
                    "--migrations", "m", "--dry-run"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->db, "d");
  EXPECT_EQ(inv->migrations_dir, "m");
  EXPECT_TRUE(inv->migrations_given);
  EXPECT_TRUE(inv->json);
  EXPECT_EQ(inv->command, "migrate");
  EXPECT_EQ(inv->flags.at("to"), "3");
  EXPECT_TRUE(inv->Has("dry-run"));
  EXPECT_FALSE(inv->Has("no-backup"));

  auto defaults = Parse({"--db", "d", "status"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->migrations_dir, "migrations");
  EXPECT_FALSE(defaults->migrations_given);
}

TEST(ParseArgsTest, PositionalsOfBackupsAndCreate) {
  auto del = Parse({"--db", "d", "backups", "delete", "_backup_1"});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->args, (std::vector<std::string>{"delete", "_backup_1"}));
  auto create = Parse({"create", "add_x", "--prefix", "task:"});
  ASSERT_TRUE(create.ok());
  EXPECT_EQ(create->args, (std::vector<std::string>{"add_x"}));
  EXPECT_EQ(create->flags.at("prefix"), "task:");
}

TEST(ParseArgsTest, RejectsBadUsage) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"nope"},
           {"status", "--nope"},
           {"status", "-x"},
           {"status", "--to", "1"},
           {"migrate", "--to"},
           {"migrate", "--json=yes"},
           {"--db", "a", "--db", "b", "status"},
           {"history", "extra"},
           {"create"},
           {"backups", "list", "a", "b"}}) {
    EXPECT_THAT(Parse(args).status().code(),
                absl::StatusCode::kInvalidArgument)
        << ::testing::PrintToString(args);
  }
  EXPECT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(Parse({"--help"})->help);
}

// The table and the parser agree: every command takes each of its flags
// (a value flag with its value, a switch alone) after its name, and a
// switch refuses a value.
TEST(ParseArgsTest, EveryCommandTakesEveryFlagOfItsTable) {
  for (const CommandSpec& c : Commands()) {
    for (const FlagSpec& f : c.flags) {
      std::vector<std::string> args = {"--db", "d", c.name};
      for (size_t i = 0; i < c.min_args; ++i) args.push_back("a");
      args.push_back("--" + f.name);
      if (!f.value_name.empty()) args.push_back("v1");
      auto inv = Parse(args);
      ASSERT_TRUE(inv.ok()) << c.name << " --" << f.name << ": " << inv.status();
      EXPECT_EQ(inv->command, c.name);
      ASSERT_TRUE(inv->Has(f.name)) << c.name << " --" << f.name;
      EXPECT_EQ(inv->flags.at(f.name), f.value_name.empty() ? "" : "v1");
      EXPECT_EQ(inv->flags.size(), 1u);
      if (f.value_name.empty()) {
        args.back() += "=no";
        auto valued = Parse(args);
        EXPECT_TRUE(absl::IsInvalidArgument(valued.status()))
            << c.name << " --" << f.name << "=no";
      }
    }
  }
}

TEST(ParseArgsTest, NamesWhatIsWrongInTheToolsWords) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "no command given; run `rocksmigrate --help`"},
           {{"nope"}, "unknown command \"nope\""},
           {{"status", "--nope"}, "unknown flag --nope; run `rocksmigrate status --help`"},
           {{"status", "--to=3"}, "status does not take --to"},
           {{"--to", "3", "migrate"}, "--to is a flag of migrate: give it after the command name"},
           {{"--check"}, "--check goes after a command that takes it"},
           {{"stray", "status"}, "unexpected argument \"stray\" before the command status"},
           {{"history", "extra"}, "unexpected argument \"extra\" for history"},
           {{"backups"}, "usage: backups list | verify ID"},
           {{"migrate", "--to"}, "flag --to needs a value (N)"},
           {{"migrate", "--to", "1", "--to", "2"}, "flag --to given twice"},
           {{"migrate", "--dry-run=no"}, "flag --dry-run takes no value"},
           {{"--json=1", "status"}, "flag --json takes no value"},
           {{"--db", "", "status"}, "--db needs a non-empty path"},
       }) {
    auto r = Parse(c.args);
    ASSERT_FALSE(r.ok()) << ::testing::PrintToString(c.args);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.says))
        << ::testing::PrintToString(c.args);
    EXPECT_EQ(std::string(r.status().message()).find('\n'), std::string::npos);
  }
  // Help names the command it was given with, if any.
  auto help = Parse({"--db", "d", "migration-status", "--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_TRUE(help->help);
  EXPECT_EQ(help->command, "status");
  auto short_help = Parse({"-h"});
  ASSERT_TRUE(short_help.ok());
  EXPECT_TRUE(short_help->help);
  EXPECT_EQ(short_help->command, "");
  // A negative number is an argument, not an unknown short flag.
  auto negative = Parse({"--db", "d", "repair", "set-version", "-1", "--confirm"});
  ASSERT_TRUE(negative.ok()) << negative.status();
  EXPECT_EQ(negative->args, (std::vector<std::string>{"set-version", "-1"}));
}

TEST(IntFlagTest, ChecksRange) {
  auto inv = Parse({"migrate", "--batch-size", "0"});
  ASSERT_TRUE(inv.ok());
  EXPECT_FALSE(IntFlag(*inv, "batch-size", 1, 10).ok());
  EXPECT_EQ(*IntFlag(*inv, "batch-size", 0, 10).value(), 0);
  EXPECT_FALSE(IntFlag(*inv, "to", 0, 10).value().has_value());
}

TEST(FormatTest, EscapesNonPrintableBytes) {
  EXPECT_EQ(EscapeBytes("task:1"), "task:1");
  EXPECT_EQ(EscapeBytes(std::string("a\0b\n\xff\\", 6)), "a\\x00b\\x0A\\xFF\\\\");
  EXPECT_EQ(EscapeText("key task:\\x01 bad\n"), "key task:\\x01 bad\\x0A");
}

TEST(FormatTest, NumbersAndDurations) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatMillis(850), "850ms");
  EXPECT_EQ(FormatMillis(12345), "12.3s");
  EXPECT_EQ(FormatMillis(252000), "4m12s");
  EXPECT_EQ(FormatMillis(3720000), "1h02m");
  EXPECT_EQ(FormatMillis(int64_t{47} * 3600 * 1000), "47h00m");
  EXPECT_EQ(FormatMillis(int64_t{76} * 3600 * 1000), "3d04h");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(3 * 1024 * 1024 + 400 * 1024), "3.4 MB");
}

TEST(FormatTest, HistoryEntryJsonHasTheSpecFields) {
  HistoryEntry e;
  e.run_id = "r1";
  e.from = 1;
  e.to = 2;
  e.migrations = {"m"};
  e.status = StepStatus::kFailed;
  e.error = std::string("bad key task:\x01", 14);
  e.checksums["0002_m.json"] = "abc";
  Json j = HistoryEntryToJson(e);
  EXPECT_EQ(j.dump(),
            R"({"run_id":"r1","from":1,"to":2,"migrations":["m"],)"
            R"("status":"failed","items_migrated":0,"items_skipped":0,)"
            R"("items_ahead":0,"started_at":"","duration_ms":0,)"
            R"("backup_id":null,"backup_column_family":null,)"
            R"("error":"bad key task:\\x01","checksums":{"0002_m.json":"abc"},)"
            R"("empty_prefixes":[],"mode":"offline","items_kept":0,"kept_keys":[],)"
            R"("down":false})");
}

Progress At(uint64_t done, int from = 1) {
  Progress p;
  p.step_from = from;
  p.step_to = from + 1;
  p.prefix = "task:";
  p.items_done = done;
  p.items_total_estimate = 100;
  p.items_per_second = 50;
  p.eta_seconds = 1;
  p.elapsed = absl::Seconds(1);
  return p;
}

TEST(ProgressReporterTest, LogLinesWhenNotATerminal) {
  std::ostringstream err;
  {
    ProgressReporter reporter(err, /*terminal=*/false);
    reporter.Report(At(10));
    reporter.Report(At(20));  // Within 5 s: not logged...
    reporter.Report(At(30));
    reporter.Report(At(5, /*from=*/2));  // ...but the step's end is.
  }  // The destructor ends the last step.
  const std::string text = err.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << text;
  EXPECT_THAT(lines[0], HasSubstr("migrating v1 -> v2 (task:): 10 / ~100 (10%)"));
  EXPECT_THAT(lines[1], HasSubstr("30 / ~100 (30%)"));
  EXPECT_THAT(lines[2], HasSubstr("v2 -> v3 (task:): 5 / ~100"));
  EXPECT_THAT(lines[0], HasSubstr("50 records/s"));
  EXPECT_THAT(lines[0], HasSubstr("ETA 1.0s"));
}

TEST(ProgressReporterTest, LiveLineOnATerminal) {
  std::ostringstream err;
  ProgressReporter reporter(err, /*terminal=*/true);
  reporter.Report(At(10));
  reporter.Report(At(100));
  reporter.Finish();
  reporter.Finish();  // Idempotent.
  const std::string text = err.str();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_THAT(text, HasSubstr("100 / ~100 (100%)"));  // The final state.
}

}  // namespace
}  // namespace rocksmigrate::cli
