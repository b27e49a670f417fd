// The admin tool end to end: the real `rocksmigrate` binary run as a
// subprocess on databases built and read back with RocksDB's `ldb`.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/json_migration.h"
#include "tests/cli_test_util.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using Records = std::map<std::string, std::string>;

// A v1 task as an application would write it.
std::string TaskV1(int id) {
  return absl::StrFormat(
      R"({"id":%d,"title":"Task %d","status":"open","priority":%d,"schema_version":1})",
      id, id, id % 4 + 1);
}

// What the shipped Task v1 -> v2 migration must make of `v1` (computed here
// with nlohmann directly, not with the code under test).
std::string TaskV2Of(const std::string& v1) {
  Json j = Json::parse(v1);
  j["depends_on"] = Json::array();
  j["related_tasks"] = Json::array();
  j["schema_version"] = 2;
  return j.dump();
}

Records UserRecords(const Records& all) {
  Records user;
  for (const auto& [k, v] : all) {
    if (k.empty() || k[0] != '_') user[k] = v;
  }
  return user;
}

// The error contract: exactly one stderr line starting with "error: ".
void ExpectOneErrorLine(const RunResult& r) {
  std::vector<std::string> lines = absl::StrSplit(r.err, '\n', absl::SkipEmpty());
  int errors = 0;
  for (const std::string& line : lines) {
    if (line.rfind("error: ", 0) == 0) ++errors;
  }
  EXPECT_EQ(errors, 1) << r.err;
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.back(), StartsWith("error: ")) << r.err;
}

Json ParseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not one JSON document: " << text;
  return j;
}

class CliTest : public ToolTest {
 protected:

  // Writes tasks 1..n at v1 (plus `extra`) and returns the user records.
  Records MakeTasks(int n, const Records& extra = {}) {
    Records records = extra;
    for (int i = 1; i <= n; ++i) {
      records[absl::StrFormat("task:%04d", i)] = TaskV1(i);
    }
    LdbPut(db_, records);
    return records;
  }

  Records Expected(const Records& v1) {
    Records v2;
    for (const auto& [k, v] : v1) v2[k] = TaskV2Of(v);
    return v2;
  }

};

TEST_F(CliTest, HelpPrintsUsage) {
  RunResult r = RunTool({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage: rocksmigrate --db PATH"));
  EXPECT_THAT(r.out, HasSubstr("prune [--keep N]"));
  EXPECT_THAT(r.out, HasSubstr("[--older-than AGE]"));
}

TEST_F(CliTest, UsageErrorsExit2WithOneErrorLine) {
  MakeTasks(1);
  const std::vector<std::vector<std::string>> cases = {
      {},                                   // No command.
      {"frobnicate"},                       // Unknown command.
      {"status", "--verbose"},              // Unknown flag.
      {"status", "--to", "3"},              // Flag of another command.
      {"migrate", "--batch-size", "0"},     // Out of range.
      {"migrate", "--to", "two"},           // Not a number.
      {"migrate", "--to"},                  // Missing value.
      {"rollback"},                         // Missing --to.
      {"backups"},                          // Missing action.
      {"backups", "delete"},                // Missing id.
      {"backups", "prune"},                 // Missing --keep.
      {"status", "extra"},                  // Stray argument.
      {"create", "Bad-Name", "--prefix", "task:"},
      {"create", "ok_name"},                // Missing --prefix.
  };
  const std::string before = LdbScan(db_);
  for (const auto& args : cases) {
    RunResult r = Tool(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << r.err;
    ExpectOneErrorLine(r);
    EXPECT_EQ(r.out, "");
  }
  RunResult no_db = RunTool({"status"});
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_THAT(no_db.err, HasSubstr("needs --db PATH"));
  EXPECT_EQ(LdbScan(db_), before);
}

TEST_F(CliTest, MissingDatabaseExits2AndCreatesNothing) {
  const std::string missing = dir_.Sub("nothing-here");
  for (const char* command : {"status", "migrate", "history", "validate"}) {
    RunResult r = RunTool({"--db", missing, "--migrations", migrations_, command});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("no database at " + missing));
    ExpectOneErrorLine(r);
    EXPECT_FALSE(std::filesystem::exists(missing)) << command;
  }
  // An existing directory that holds no database is not one either.
  ASSERT_TRUE(std::filesystem::create_directory(missing));
  RunResult r = RunTool({"--db", missing, "--migrations", migrations_, "migrate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(std::filesystem::is_empty(missing));
}

TEST_F(CliTest, MissingMigrationsDirectoryExits2) {
  MakeTasks(1);
  RunResult r = RunTool({"--db", db_, "--migrations", dir_.Sub("nope"), "status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(dir_.Sub("nope")));
  ExpectOneErrorLine(r);
}

TEST_F(CliTest, StatusShowsPendingStepAndCheckExits4) {
  MakeTasks(3);
  RunResult r = Tool({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("version:    v1"));
  EXPECT_THAT(r.out, HasSubstr("target:     v2"));
  EXPECT_THAT(r.out, HasSubstr("v1 -> v2  task_add_dependencies (task:)"));
  EXPECT_THAT(r.out, HasSubstr("migrate --dry-run"));

  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);

  RunResult j = Tool({"--json", "status"});
  ASSERT_EQ(j.exit_code, 0);
  Json doc = ParseJson(j.out);
  EXPECT_EQ(doc["current_version"], 1);
  EXPECT_EQ(doc["target_version"], 2);
  EXPECT_EQ(doc["up_to_date"], false);
  EXPECT_EQ(doc["has_stored_version"], false);
  ASSERT_EQ(doc["pending"].size(), 1u);
  EXPECT_EQ(doc["pending"][0]["from"], 1);
  EXPECT_EQ(doc["pending"][0]["migrations"][0]["name"], "task_add_dependencies");
  EXPECT_EQ(doc["pending"][0]["migrations"][0]["file"],
            "0002_task_add_dependencies.json");
  EXPECT_TRUE(doc["in_flight"].is_null());
  EXPECT_EQ(doc["backups"].size(), 0u);
  EXPECT_EQ(doc["history"].size(), 0u);
}

TEST_F(CliTest, MigrateRewritesEveryRecordAndStatusIsUpToDate) {
  Records v1 = MakeTasks(25, {{"note:1", R"({"n":1})"}});
  RunResult r = Tool({"migrate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("v1 -> v2: 25 migrated, 0 skipped"));
  EXPECT_THAT(r.out, HasSubstr("now at v2"));

  Records after = LdbRecords(db_);
  Records expected = Expected(v1);
  expected["note:1"] = R"({"n":1})";  // Outside the migrated prefix.
  EXPECT_EQ(UserRecords(after), expected);
  EXPECT_EQ(after["_schema_version"], "2");
  EXPECT_EQ(after.count("_migration_progress"), 0u);

  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 0);
  RunResult s = Tool({"status"});
  EXPECT_THAT(s.out, HasSubstr("version:    v2"));
  EXPECT_THAT(s.out, HasSubstr("pending:    none"));
  EXPECT_THAT(s.out, HasSubstr("up to date"));
  EXPECT_THAT(s.out, HasSubstr("success"));

  // Running it again changes nothing.
  const std::string scan = LdbScan(db_);
  RunResult again = Tool({"migrate"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("nothing to do"));
  EXPECT_EQ(LdbScan(db_), scan);
}

TEST_F(CliTest, GlobalFlagsMayFollowTheCommand) {
  MakeTasks(2);
  RunResult r = RunTool({"status", "--check", "--db", db_, "--json",
                         "--migrations=" + migrations_});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(ParseJson(r.out)["current_version"], 1);
}

TEST_F(CliTest, MigrationsDefaultToTheWorkingDirectory) {
  MakeTasks(2);
  RunResult r = RunTool({"--db", db_, "status", "--check"}, dir_.path());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  RunResult elsewhere = RunTool({"--db", db_, "status"}, db_);
  EXPECT_EQ(elsewhere.exit_code, 2);
  EXPECT_THAT(elsewhere.err, HasSubstr("--migrations"));
}

TEST_F(CliTest, MigrateJsonAndHistoryJsonHoldTheSpecFields) {
  MakeTasks(7, {{"task:0008", R"({"id":8,"schema_version":2})"}});
  RunResult m = Tool({"--json", "migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  Json run = ParseJson(m.out);
  EXPECT_EQ(run["from"], 1);
  EXPECT_EQ(run["to"], 2);
  ASSERT_EQ(run["steps"].size(), 1u);

  RunResult h = Tool({"--json", "history"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  Json history = ParseJson(h.out)["history"];
  ASSERT_EQ(history.size(), 1u);
  const Json& e = history[0];
  for (const char* field :
       {"run_id", "from", "to", "migrations", "status", "items_migrated",
        "items_skipped", "started_at", "duration_ms", "backup_id", "error",
        "checksums"}) {
    EXPECT_TRUE(e.contains(field)) << field;
  }
  EXPECT_EQ(e["run_id"], run["run_id"]);
  EXPECT_EQ(e["from"], 1);
  EXPECT_EQ(e["to"], 2);
  EXPECT_EQ(e["migrations"], Json::array({"task_add_dependencies"}));
  EXPECT_EQ(e["status"], "success");
  EXPECT_EQ(e["items_migrated"], 7);
  EXPECT_EQ(e["items_skipped"], 1);
  EXPECT_THAT(e["started_at"].get<std::string>(),
              ContainsRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"));
  EXPECT_TRUE(e["duration_ms"].is_number_integer());
  EXPECT_TRUE(e["backup_id"].is_string());
  EXPECT_TRUE(e["error"].is_null());

  // The checksum is the file's SHA-256 as coreutils computes it.
  FILE* p = popen(("sha256sum " + migrations_ +
                   "/0002_task_add_dependencies.json").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char sum[65] = {};
  ASSERT_EQ(std::fread(sum, 1, 64, p), 64u);
  pclose(p);
  EXPECT_EQ(e["checksums"]["0002_task_add_dependencies.json"], sum);

  RunResult human = Tool({"history"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_THAT(human.out, HasSubstr("v1 -> v2  success"));
  EXPECT_THAT(human.out, HasSubstr("7 migrated, 1 skipped"));
}

TEST_F(CliTest, EmptyDatabaseIsPendingUntilStamped) {
  LdbPut(db_, {{"_custom", "x"}});  // Reserved keys only: empty.
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);
  RunResult dry = Tool({"migrate", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would stamp it v2"));
  RunResult r = Tool({"migrate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("stamped v2"));
  Records after = LdbRecords(db_);
  EXPECT_EQ(after["_schema_version"], "2");
  EXPECT_EQ(after["_custom"], "x");
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 0);
  RunResult h = Tool({"history"});
  EXPECT_THAT(h.out, HasSubstr("v1 -> v2  stamped"));
}

TEST_F(CliTest, RecordsUnderNoMigratedPrefixAreNotAnEmptyDatabase) {
  LdbPut(db_, {{"other:1", "x"}});  // A record, but not under task:.
  RunResult s = Tool({"status"});
  EXPECT_THAT(s.out, HasSubstr("warning: no record under 'task:'"));
  RunResult dry = Tool({"migrate", "--dry-run"});
  EXPECT_THAT(dry.out, HasSubstr("warning: no record under 'task:'"));
  RunResult r = Tool({"migrate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no record under 'task:'"));
  EXPECT_THAT(r.out, HasSubstr("v1 -> v2: 0 migrated"));
  RunResult h = Tool({"history"});
  EXPECT_THAT(h.out, HasSubstr("note: no record under 'task:'"));
  EXPECT_EQ(LdbRecords(db_)["other:1"], "x");
}

TEST_F(CliTest, DryRunWritesNothingAndReportsCounts) {
  MakeTasks(10, {{"task:0011", R"({"id":11,"schema_version":2})"},
                 {"task:0012", R"({"id":12,"schema_version":3})"}});
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"--json", "migrate", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = ParseJson(r.out);
  EXPECT_EQ(doc["dry_run"], true);
  EXPECT_EQ(doc["would_fail"], false);
  ASSERT_EQ(doc["steps"].size(), 1u);
  EXPECT_EQ(doc["steps"][0]["items_to_migrate"], 10);
  EXPECT_EQ(doc["steps"][0]["items_skipped"], 2);
  EXPECT_EQ(doc["steps"][0]["items_failed"], 0);
  EXPECT_EQ(LdbScan(db_), before);

  RunResult human = Tool({"migrate", "--dry-run"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_THAT(human.out, HasSubstr("10 to migrate"));
  EXPECT_THAT(human.out, HasSubstr("nothing was written"));
  EXPECT_EQ(LdbScan(db_), before);
}

TEST_F(CliTest, DryRunWithItemFailuresExits1AndNamesTheKey) {
  MakeTasks(5, {{std::string("task:\x01zz", 8), "not json"}});
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"migrate", "--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("task:\\x01zz"));
  EXPECT_THAT(r.out, HasSubstr("1 failing"));
  EXPECT_EQ(LdbScan(db_), before);

  RunResult j = Tool({"--json", "migrate", "--dry-run"});
  EXPECT_EQ(j.exit_code, 1);
  Json doc = ParseJson(j.out);
  EXPECT_EQ(doc["would_fail"], true);
  EXPECT_EQ(doc["steps"][0]["first_failures"][0]["key"], "task:\\x01zz");
}

TEST_F(CliTest, ItemErrorExits1AndRestoresEveryRecord) {
  Records v1 = MakeTasks(30, {{"task:0015x", R"({"id":"x","schema_version":"one"})"}});
  RunResult r = Tool({"migrate", "--batch-size", "4"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("task:0015x"));
  Records after = LdbRecords(db_);
  EXPECT_EQ(UserRecords(after), v1);
  EXPECT_EQ(after.count("_schema_version"), 0u);

  Json history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "failed");
  EXPECT_THAT(history[0]["error"].get<std::string>(), HasSubstr("task:0015x"));
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);
}

TEST_F(CliTest, ValidateAcceptsAMigratedDatabase) {
  MakeTasks(12);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  RunResult r = Tool({"validate"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("checked 12 records"));
  Json doc = ParseJson(Tool({"--json", "validate"}).out);
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["records_checked"], 12);
  EXPECT_EQ(doc["problem_count"], 0);
}

TEST_F(CliTest, ValidateReportsARecordWithTheWrongVersion) {
  MakeTasks(4);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  LdbPut(db_, {{"task:0003", TaskV1(3)}});  // Written back by an old server.
  RunResult r = Tool({"validate"});
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.out, HasSubstr("key task:0003"));
  Json doc = ParseJson(Tool({"--json", "validate"}).out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["problem_count"], 1);
  EXPECT_EQ(doc["problems"][0]["key"], "task:0003");
}

TEST_F(CliTest, ValidateReportsAnAppliedFileThatChanged) {
  MakeTasks(4);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  WriteFileOrDie(migrations_ + "/0002_task_add_dependencies.json",
                 TaskV2File() + " ");
  RunResult r = Tool({"validate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("0002_task_add_dependencies.json"));
  EXPECT_THAT(r.err, HasSubstr("0002_task_add_dependencies.json"));
  Json doc = ParseJson(Tool({"--json", "validate"}).out);
  EXPECT_EQ(doc["problem_count"], 1);
  EXPECT_EQ(doc["problems"][0]["file"], "0002_task_add_dependencies.json");
}

TEST_F(CliTest, RollbackThenMigrateReproducesTheSameBytes) {
  Records v1 = MakeTasks(40);
  ASSERT_EQ(Tool({"migrate", "--batch-size", "7"}).exit_code, 0);
  const Records migrated = UserRecords(LdbRecords(db_));
  ASSERT_EQ(migrated, Expected(v1));

  RunResult r = Tool({"rollback", "--to", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("now at v1"));
  Records rolled = LdbRecords(db_);
  EXPECT_EQ(UserRecords(rolled), v1);
  Json history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["status"], "rolled_back");
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);

  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  EXPECT_EQ(UserRecords(LdbRecords(db_)), migrated);
}

TEST_F(CliTest, RollbackAndMigrateToRefuseTheWrongDirection) {
  MakeTasks(3);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  const std::string before = LdbScan(db_);
  RunResult down = Tool({"migrate", "--to", "1"});
  EXPECT_EQ(down.exit_code, 2);
  EXPECT_THAT(down.err, HasSubstr("rollback --to 1"));
  ExpectOneErrorLine(down);
  RunResult up = Tool({"rollback", "--to", "2"});
  EXPECT_EQ(up.exit_code, 2);
  ExpectOneErrorLine(up);
  EXPECT_EQ(LdbScan(db_), before);
}

TEST_F(CliTest, NewerSchemaIsRefusedWithExit3) {
  MakeTasks(3, {{"_schema_version", "5"}});
  const std::string before = LdbScan(db_);
  RunResult check = Tool({"status", "--check"});
  EXPECT_EQ(check.exit_code, 3);
  EXPECT_THAT(check.err, HasSubstr("newer than this binary supports"));
  RunResult m = Tool({"migrate"});
  EXPECT_EQ(m.exit_code, 3) << m.err;
  ExpectOneErrorLine(m);
  EXPECT_EQ(LdbScan(db_), before);
}

TEST_F(CliTest, BackupsListDeleteAndPrune) {
  Records v1 = MakeTasks(6);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  RunResult list = Tool({"--json", "backups", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json backups = ParseJson(list.out)["backups"];
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0]["from"], 1);
  EXPECT_EQ(backups[0]["to"], 2);
  EXPECT_EQ(backups[0]["item_count"], 6);
  EXPECT_EQ(backups[0]["complete"], true);
  EXPECT_EQ(backups[0]["prefixes"], Json::array({"task:"}));
  const std::string id = backups[0]["id"];
  EXPECT_THAT(id, ContainsRegex("^_backup_[0-9]{8}_[0-9]{6}"));
  EXPECT_THAT(Tool({"backups", "list"}).out, HasSubstr(id));

  RunResult missing = Tool({"backups", "delete", "_backup_19990101_000000"});
  EXPECT_EQ(missing.exit_code, 1);
  ExpectOneErrorLine(missing);
  EXPECT_THAT(missing.err, HasSubstr("backups list"));

  RunResult pruned = Tool({"backups", "prune", "--keep", "1"});
  EXPECT_EQ(pruned.exit_code, 0);
  EXPECT_THAT(pruned.out, HasSubstr("nothing to prune"));

  RunResult del = Tool({"backups", "delete", id});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_THAT(del.out, HasSubstr("deleted backup " + id));
  for (const auto& [k, v] : LdbRecords(db_)) {
    EXPECT_THAT(k, Not(StartsWith(id))) << "backup key left behind";
  }
  EXPECT_EQ(ParseJson(Tool({"--json", "backups", "list"}).out)["backups"].size(), 0u);
  EXPECT_EQ(UserRecords(LdbRecords(db_)), Expected(v1));
  // Without its backup the step cannot be rolled back.
  RunResult rollback = Tool({"rollback", "--to", "1"});
  EXPECT_EQ(rollback.exit_code, 3) << rollback.err;
  EXPECT_EQ(UserRecords(LdbRecords(db_)), Expected(v1));
}

TEST_F(CliTest, PruneKeepsTheNewestBackups) {
  MakeTasks(3);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  ASSERT_EQ(Tool({"rollback", "--to", "1"}).exit_code, 0);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  Json backups = ParseJson(Tool({"--json", "backups", "list"}).out)["backups"];
  ASSERT_GE(backups.size(), 1u);
  const std::string newest = backups.back()["id"];
  RunResult r = Tool({"--json", "backups", "prune", "--keep", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json left = ParseJson(Tool({"--json", "backups", "list"}).out)["backups"];
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["id"], newest);
  ASSERT_EQ(Tool({"backups", "prune", "--keep", "0"}).exit_code, 0);
  EXPECT_EQ(ParseJson(Tool({"--json", "backups", "list"}).out)["backups"].size(), 0u);
}

TEST_F(CliTest, CreateWritesTheNextFileThatLoads) {
  MakeTasks(2);
  RunResult r = Tool({"create", "task_add_estimate", "--prefix", "task:"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string path = migrations_ + "/0003_task_add_estimate.json";
  EXPECT_THAT(r.out, HasSubstr(path));
  Json doc = ParseJson(ReadFileOrDie(path));
  EXPECT_EQ(doc, Json::parse(R"({"from":2,"to":3,"name":"task_add_estimate",
      "description":"","prefix":"task:","patch":[]})"));
  // The tool accepts what it wrote: two pending steps now.
  Json status = ParseJson(Tool({"--json", "status"}).out);
  EXPECT_EQ(status["target_version"], 3);
  EXPECT_EQ(status["pending"].size(), 2u);

  const std::string first = ReadFileOrDie(path);
  RunResult next = Tool({"create", "task_add_estimate", "--prefix", "task:"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_TRUE(std::filesystem::exists(migrations_ + "/0004_task_add_estimate.json"));
  EXPECT_EQ(ReadFileOrDie(path), first);
}

TEST_F(CliTest, CreateStartsAtTheDatabaseVersionInAnEmptyDirectory) {
  MakeTasks(2, {{"_schema_version", "4"}});
  const std::string dir = dir_.Sub("fresh/migrations");
  RunResult r = RunTool({"--db", db_, "--migrations", dir, "create", "first",
                         "--prefix", "note:"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = ParseJson(ReadFileOrDie(dir + "/0005_first.json"));
  EXPECT_EQ(doc["from"], 4);
  EXPECT_EQ(doc["prefix"], "note:");

  // Without a database the chain starts at 1.
  const std::string other = dir_.Sub("other");
  ASSERT_EQ(RunTool({"--migrations", other, "create", "x", "--prefix", "p:"})
                .exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(other + "/0002_x.json"));
}

TEST_F(CliTest, CreateRefusesBadNamesAndPrefixes) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"create", "has space", "--prefix", "task:"},
           {"create", "../evil", "--prefix", "task:"},
           {"create", "ok", "--prefix", "_reserved"}}) {
    RunResult r = Tool(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ");
    ExpectOneErrorLine(r);
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(migrations_),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(CliTest, JsonModePrintsAnErrorDocument) {
  RunResult r = RunTool({"--db", dir_.Sub("none"), "--migrations", migrations_,
                         "--json", "status"});
  EXPECT_EQ(r.exit_code, 2);
  Json doc = ParseJson(r.out);
  EXPECT_EQ(doc["exit_code"], 2);
  EXPECT_THAT(doc["error"].get<std::string>(), HasSubstr("no database at"));
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
