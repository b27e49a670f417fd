// The command layer in-process (beside the subprocess tests): the one
// command table is consistent with the parser and the usage text, and
// RunCli() dispatches through it with C++ migrations of a custom build.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"
#include "tools/cli/args.h"
#include "tools/cli/cli.h"
#include "tools/cli/command_table.h"

namespace rocksmigrate::cli {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::testing::HasSubstr;

TEST(CommandTableTest, EveryCommandAndFlagIsInTheUsage) {
  const std::string usage = UsageText();
  for (const CommandSpec& c : Commands()) {
    EXPECT_THAT(usage, HasSubstr("\n  " + c.name)) << c.name;
    EXPECT_EQ(FindCommand(c.name), &c);
    EXPECT_FALSE(c.summary.empty()) << c.name;
    const std::string own = UsageText(c.name);
    EXPECT_THAT(own, HasSubstr("Usage: rocksmigrate")) << c.name;
    EXPECT_THAT(own, HasSubstr(" " + c.name)) << c.name;
    for (const std::string& alias : c.aliases) {
      EXPECT_EQ(FindCommand(alias), &c) << alias;
      EXPECT_THAT(usage, HasSubstr(alias));
      EXPECT_EQ(UsageText(alias), own) << alias;
    }
    for (const FlagSpec& f : c.flags) {
      EXPECT_EQ(FindFlag(c, f.name), &f);
      EXPECT_TRUE(AnyCommandTakes(f.name));
      EXPECT_FALSE(f.help.empty()) << c.name << " --" << f.name;
      EXPECT_THAT(own, HasSubstr("--" + f.name)) << c.name << " --" << f.name;
      EXPECT_THAT(usage, HasSubstr("--" + f.name)) << c.name << " --" << f.name;
    }
    EXPECT_NE(c.run, nullptr) << c.name;
  }
  for (const FlagSpec& f : GlobalFlags()) {
    EXPECT_THAT(usage, HasSubstr("--" + f.name)) << f.name;
    EXPECT_FALSE(AnyCommandTakes(f.name)) << f.name;
  }
  EXPECT_THAT(usage, HasSubstr("--version"));
  EXPECT_THAT(usage, HasSubstr("ROCKSMIGRATE_DB"));
  EXPECT_EQ(FindCommand("nope"), nullptr);
}

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun Cli(std::vector<std::string> args, MigrationRegistry* registry) {
  args.insert(args.begin(), "rocksmigrate");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream out;
  std::ostringstream err;
  const int code =
      RunCli(static_cast<int>(argv.size()), argv.data(), out, err, registry);
  return {code, out.str(), err.str()};
}

TEST(RunCliTest, DispatchesWithTheMigrationsOfACustomBuild) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    auto open = TestDb::Open(db);
    open->Put("task:1", R"({"id":1,"schema_version":1})");
  }
  const std::string empty_dir = dir.Sub("no-files");
  MigrationRegistry registry;
  ASSERT_TRUE(registry.Register(std::make_unique<AddField>(1, "task:", "a", 1)).ok());
  auto common = [&](std::vector<std::string> rest) {
    rest.insert(rest.begin(), {"--db", db, "--migrations", empty_dir});
    return rest;
  };
  CliRun health = Cli(common({"health"}), &registry);
  EXPECT_EQ(health.code, 4) << health.err;
  EXPECT_EQ(health.out, "pending: v1 -> v2, 1 step\n");

  CliRun migrate = Cli(common({"--json", "migrate"}), &registry);
  ASSERT_EQ(migrate.code, 0) << migrate.err;
  Json doc = Json::parse(migrate.out);
  EXPECT_EQ(doc["to"], 2);

  CliRun status = Cli(common({"migration-status", "--check"}), &registry);
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("version:    v2"));

  CliRun usage = Cli({"--help"}, nullptr);
  EXPECT_EQ(usage.code, 0);
  EXPECT_EQ(usage.out, UsageText());
  CliRun one = Cli({"rollback", "--help"}, nullptr);
  EXPECT_EQ(one.code, 0);
  EXPECT_EQ(one.out, UsageText("rollback"));
  EXPECT_THAT(one.out, HasSubstr("--using"));
  EXPECT_THAT(one.out, ::testing::Not(HasSubstr("--batch-size")));
  CliRun bad = Cli(common({"health", "--check"}), &registry);
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("health does not take --check"));
}

}  // namespace
}  // namespace rocksmigrate::cli
