// The operations surface of the admin tool, end to end on the real binary:
// `health` for probes, `--version`, the `migration-status` alias, the
// ROCKSMIGRATE_* environment, backup retention and the metrics file.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/json_migration.h"
#include "tests/cli_test_util.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Json ParseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not one JSON document: " << text;
  return j;
}

class CliOperationsTest : public ToolTest {
 protected:
  void MakeTasks(int n, std::map<std::string, std::string> extra = {}) {
    for (int i = 1; i <= n; ++i) {
      extra[absl::StrFormat("task:%04d", i)] = absl::StrFormat(
          R"({"id":%d,"title":"Task %d","status":"open","priority":1,"schema_version":1})",
          i, i);
    }
    LdbPut(db_, extra);
  }
};

TEST_F(CliOperationsTest, HealthSaysReadyPendingFailedRefusedWithExitCodes) {
  MakeTasks(5);
  RunResult pending = Tool({"health"});
  EXPECT_EQ(pending.exit_code, 4) << pending.err;
  EXPECT_THAT(pending.out, StartsWith("pending: v1 -> v2, 1 step\n"));
  Json doc = ParseJson(Tool({"--json", "health"}).out);
  EXPECT_EQ(doc["health"], "pending");
  EXPECT_EQ(doc["exit_code"], 4);
  EXPECT_EQ(doc["current_version"], 1);
  EXPECT_EQ(doc["target_version"], 2);
  EXPECT_EQ(doc["pending_steps"], 1);

  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  RunResult ready = Tool({"health"});
  EXPECT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_EQ(ready.out, "ready: v2\n");
  EXPECT_EQ(ready.err, "");
  // The alias operators know.
  EXPECT_EQ(Tool({"migration-status", "--check"}).exit_code, 0);

  // A newer schema: refused, exit 3, one line on stdout, nothing written.
  LdbPut(db_, {{"_schema_version", "7"}});
  const std::string before = LdbScan(db_);
  RunResult newer = Tool({"health"});
  EXPECT_EQ(newer.exit_code, 3);
  // (After a recorded step, a v7 the history does not explain is also
  // bookkeeping that cannot be trusted.)
  EXPECT_THAT(newer.out, StartsWith("refused: "));
  EXPECT_THAT(newer.out, HasSubstr("v7"));
  EXPECT_EQ(LdbScan(db_), before);

  // Damaged bookkeeping: refused, naming the key.
  LdbPut(db_, {{"_schema_version", "two"}});
  RunResult damaged = Tool({"--json", "health"});
  EXPECT_EQ(damaged.exit_code, 3);
  Json d = ParseJson(damaged.out);
  EXPECT_EQ(d["health"], "refused");
  EXPECT_THAT(d["summary"].get<std::string>(), HasSubstr("_schema_version"));
}

TEST_F(CliOperationsTest, HealthSaysFailedAfterAnItemError) {
  MakeTasks(5, {{"task:0003x", R"({"id":"x","schema_version":"one"})"}});
  ASSERT_EQ(Tool({"migrate"}).exit_code, 1);
  RunResult failed = Tool({"health"});
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_THAT(failed.out, StartsWith("failed: step v1 -> v2 failed at "));
  EXPECT_THAT(failed.out, HasSubstr("task:0003x"));
  EXPECT_EQ(failed.out.find('\n'), failed.out.size() - 1) << "one line";
}

TEST_F(CliOperationsTest, HealthOfAMissingDatabaseIsAnError) {
  RunResult r = Tool({"health"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: "));
}

TEST_F(CliOperationsTest, VersionPrintsTheBuildsVersion) {
  RunResult r = RunTool({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::MatchesRegex("rocksmigrate [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST_F(CliOperationsTest, EnvironmentNamesTheDatabaseAndFlagsWin) {
  MakeTasks(3);
  RunResult env = RunProgram(
      "/usr/bin/env", {absl::StrCat("ROCKSMIGRATE_DB=", db_),
                       absl::StrCat("ROCKSMIGRATE_MIGRATIONS=", migrations_),
                       "ROCKSMIGRATE_JSON=1", ROCKSMIGRATE_BIN, "health"});
  EXPECT_EQ(env.exit_code, 4) << env.err;
  EXPECT_EQ(ParseJson(env.out)["health"], "pending");

  // --db on the command line wins over the variable.
  RunResult wins = RunProgram(
      "/usr/bin/env", {"ROCKSMIGRATE_DB=/nonexistent/db",
                       absl::StrCat("ROCKSMIGRATE_MIGRATIONS=", migrations_),
                       ROCKSMIGRATE_BIN, "--db", db_, "health"});
  EXPECT_EQ(wins.exit_code, 4) << wins.err;

  RunResult bad = RunProgram(
      "/usr/bin/env", {"ROCKSMIGRATE_JSON=sometimes", ROCKSMIGRATE_BIN,
                       "--db", db_, "health"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("ROCKSMIGRATE_JSON"));
}

TEST_F(CliOperationsTest, MetricsFileDuringARealRunPassesPromtool) {
  MakeTasks(3000);
  const std::string metrics = dir_.Sub("rocksmigrate.prom");
  RunResult r = Tool({"migrate", "--batch-size", "100", "--metrics-file", metrics});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFileOrDie(metrics);
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_schema_version 2\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_records_migrated_total 3000\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_batches_committed_total 30\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_health{state=\"ready\"} 1\n"));
  RunResult check = RunProgram("/bin/sh", {"-c", absl::StrCat(
      PROMTOOL_BIN, " check metrics < ", metrics)});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << text;
  // No temporary file is left beside it.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    left.push_back(e.path().filename().string());
  }
  for (const std::string& name : left) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
  }

  // `metrics` prints the same families on stdout; --json the snapshot.
  RunResult printed = Tool({"metrics"});
  EXPECT_EQ(printed.exit_code, 0);
  EXPECT_THAT(printed.out, HasSubstr("# TYPE rocksmigrate_records_migrated_total counter"));
  Json doc = ParseJson(Tool({"--json", "metrics"}).out);
  EXPECT_EQ(doc["records_migrated_total"], 3000);
  EXPECT_EQ(doc["health"], "ready");
}

TEST_F(CliOperationsTest, UnwritableMetricsFileIsRefusedBeforeAnyWrite) {
  MakeTasks(5);
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"migrate", "--metrics-file", "/nonexistent/dir/m.prom"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/dir/m.prom"));
  EXPECT_THAT(r.err, HasSubstr("nothing was migrated"));
  EXPECT_EQ(LdbScan(db_), before);
  RunResult dry = Tool({"migrate", "--dry-run", "--metrics-file", dir_.Sub("m")});
  EXPECT_EQ(dry.exit_code, 2);
}

TEST_F(CliOperationsTest, BackupsListShowsSizesAndPruneOlderThan) {
  MakeTasks(4);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  RunResult list = Tool({"backups", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, ::testing::ContainsRegex("ago\\)"));
  EXPECT_THAT(list.out, HasSubstr("1 backup, about "));
  Json backups = ParseJson(Tool({"--json", "backups", "list"}).out)["backups"];
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_TRUE(backups[0]["approximate_bytes"].is_number_unsigned());

  // Younger than a day: kept.
  RunResult young = Tool({"backups", "prune", "--older-than", "1d"});
  EXPECT_EQ(young.exit_code, 0) << young.err;
  EXPECT_THAT(young.out, HasSubstr("nothing to prune: no backup older than 1d"));
  ASSERT_EQ(ParseJson(Tool({"--json", "backups", "list"}).out)["backups"].size(), 1u);
  // Bad ages are usage errors that delete nothing.
  for (const char* bad : {"0", "-1d", "soon", "inf"}) {
    RunResult r = Tool({"backups", "prune", "--older-than", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.err, HasSubstr("--older-than needs an age")) << bad;
  }
  RunResult none = Tool({"backups", "prune"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("nothing was deleted"));
  ASSERT_EQ(ParseJson(Tool({"--json", "backups", "list"}).out)["backups"].size(), 1u);
  // Older than one second, once a second has passed: deleted.
  sleep(2);
  RunResult old = Tool({"--json", "backups", "prune", "--older-than", "1s"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(ParseJson(old.out)["deleted"].size(), 1u);
  EXPECT_EQ(ParseJson(Tool({"--json", "backups", "list"}).out)["backups"].size(), 0u);
}

// A v2 -> v3 file for the Task records.
constexpr char kTaskV3File[] = R"({
  "from": 2, "to": 3, "name": "task_add_owner", "prefix": "task:",
  "patch": [{"op": "add", "path": "/owner", "value": null}]
})";

TEST_F(CliOperationsTest, BaselineFileRefusesOlderDatabasesAndLetsSquashedFilesGo) {
  MakeTasks(4);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);  // v2, by 0002.
  // The squash: 0002 deleted, a baseline at v2, a new step 0003.
  const std::string squashed = dir_.Sub("squashed");
  std::filesystem::create_directory(squashed);
  WriteFileOrDie(squashed + "/baseline.json",
                 R"({"oldest_supported_version": 2,
                     "upgrade_hint": "upgrade through release 1.4 first"})");
  WriteFileOrDie(squashed + "/0003_task_add_owner.json", kTaskV3File);
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_, "--migrations", squashed});
    return RunTool(args);
  };
  RunResult up = with({"migrate"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(with({"health"}).out, "ready: v3\n");
  // The applied 0002 is gone on purpose: validate does not call it a problem.
  RunResult valid = with({"validate"});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;

  // A database still at v1: refused before any write, naming the versions
  // and the hint, exit 3 for migrate, status --check and health.
  const std::string old_db = dir_.Sub("old-db");
  std::map<std::string, std::string> v1;
  v1["task:0001"] = R"({"id":1,"schema_version":1})";
  LdbPut(old_db, v1);
  const std::string before = LdbScan(old_db);
  RunResult m = RunTool({"--db", old_db, "--migrations", squashed, "migrate"});
  EXPECT_EQ(m.exit_code, 3) << m.err;
  EXPECT_THAT(m.err, HasSubstr("at v1, below v2, the oldest version"));
  EXPECT_THAT(m.err, HasSubstr("upgrade through release 1.4 first"));
  EXPECT_EQ(LdbScan(old_db), before);
  EXPECT_EQ(RunTool({"--db", old_db, "--migrations", squashed, "status",
                     "--check"}).exit_code, 3);
  RunResult h = RunTool({"--db", old_db, "--migrations", squashed, "health"});
  EXPECT_EQ(h.exit_code, 3);
  EXPECT_THAT(h.out, StartsWith("refused: "));
  EXPECT_EQ(LdbScan(old_db), before);
}

TEST_F(CliOperationsTest, BadBaselineFilesAreNamedAndNothingIsTouched) {
  MakeTasks(2);
  const std::string before = LdbScan(db_);
  for (const char* bad :
       {"not json", R"({"oldest_supported_version": 0})",
        R"({"oldest_supported_version": "2"})", R"({"version": 2})",
        R"({"oldest_supported_version": 2, "upgrade_hint": 7})",
        // Above the file 0002 (v1 -> v2) that is still there.
        R"({"oldest_supported_version": 3})"}) {
    WriteFileOrDie(migrations_ + "/baseline.json", bad);
    RunResult r = Tool({"migrate"});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("baseline")) << bad;
    EXPECT_EQ(LdbScan(db_), before) << bad;
  }
}

TEST_F(CliOperationsTest, RedoReappliesAnEditedFileAndRefusesAnUnchangedOne) {
  MakeTasks(3);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  const std::string after_first = LdbScan(db_);
  RunResult same = Tool({"migrate", "--redo"});
  EXPECT_EQ(same.exit_code, 3) << same.err;
  EXPECT_THAT(same.err, HasSubstr("unchanged since it was applied"));
  EXPECT_THAT(same.err, HasSubstr("migrate --redo --force"));
  EXPECT_EQ(LdbScan(db_), after_first);

  // Edit the applied file (development): the redo applies the new patch.
  const std::string file = migrations_ + "/0002_task_add_dependencies.json";
  WriteFileOrDie(file, R"({
  "from": 1, "to": 2, "name": "task_add_dependencies", "prefix": "task:",
  "patch": [{"op": "add", "path": "/depends_on", "value": ["none"]}]
})");
  RunResult redo = Tool({"migrate", "--redo"});
  ASSERT_EQ(redo.exit_code, 0) << redo.err;
  const std::map<std::string, std::string> records = LdbRecords(db_);
  EXPECT_EQ(records.at("task:0001"),
            R"({"id":1,"title":"Task 1","status":"open","priority":1,"schema_version":2,"depends_on":["none"]})");
  EXPECT_EQ(records.at("_schema_version"), "2");
  Json history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["status"], "rolled_back");
  EXPECT_EQ(history[1]["status"], "success");
  EXPECT_EQ(Tool({"validate"}).exit_code, 0);

  // --force redoes an unchanged step; bad combinations are usage errors.
  EXPECT_EQ(Tool({"migrate", "--redo", "--force"}).exit_code, 0);
  EXPECT_EQ(LdbRecords(db_).at("task:0001"), records.at("task:0001"));
  EXPECT_EQ(Tool({"migrate", "--redo", "--to", "2"}).exit_code, 2);
  EXPECT_EQ(Tool({"migrate", "--force"}).exit_code, 2);
}

TEST_F(CliOperationsTest, RollbackUsesTheDownPatchOnceTheBackupIsGone) {
  WriteFileOrDie(migrations_ + "/0002_task_add_dependencies.json", R"({
  "from": 1, "to": 2, "name": "task_add_dependencies", "prefix": "task:",
  "patch": [{"op": "add", "path": "/depends_on", "value": []}],
  "down": [{"op": "remove", "path": "/depends_on"}]
})");
  MakeTasks(4);
  const std::map<std::string, std::string> original = LdbRecords(db_);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  Json backups = ParseJson(Tool({"--json", "backups", "list"}).out)["backups"];
  ASSERT_EQ(backups.size(), 1u);
  const std::string id = backups[0]["id"];
  ASSERT_EQ(Tool({"backups", "delete", id}).exit_code, 0);
  const std::string migrated = LdbScan(db_);

  // A typo in --using is a usage error; the dry run writes nothing.
  RunResult typo = Tool({"rollback", "--to", "1", "--using", "dwon"});
  EXPECT_EQ(typo.exit_code, 2) << typo.err;
  EXPECT_THAT(typo.err, HasSubstr("--using 'dwon' is not backup, down or auto"));
  RunResult dry = Tool({"rollback", "--to", "1", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("v2 -> v1  by the down transforms of "
                                 "task_add_dependencies: 4 to rewrite"));
  Json dry_json = ParseJson(Tool({"--json", "rollback", "--to", "1", "--dry-run"}).out);
  EXPECT_EQ(dry_json["steps"][0]["undo_by"], "down");
  RunResult backup_only = Tool({"rollback", "--to", "1", "--using", "backup"});
  EXPECT_EQ(backup_only.exit_code, 3) << backup_only.err;
  EXPECT_THAT(backup_only.err, HasSubstr("was deleted"));
  EXPECT_EQ(LdbScan(db_), migrated);

  RunResult r = Tool({"rollback", "--to", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("undid v1 -> v2 with the down transforms of "
                               "task_add_dependencies"));
  std::map<std::string, std::string> now = LdbRecords(db_);
  for (const auto& [k, v] : original) {
    if (k.rfind("task:", 0) == 0) {
      EXPECT_EQ(now.at(k), v) << k;
    }
  }
  EXPECT_EQ(now.at("_schema_version"), "1");
  Json history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "rolled_back");
  EXPECT_EQ(history[0]["down"], true);
  EXPECT_THAT(Tool({"history"}).out, HasSubstr("undone by its down transforms"));
}

TEST_F(CliOperationsTest, RedoWithNothingAppliedIsRefused) {
  MakeTasks(2);
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"migrate", "--redo", "--force"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no applied step to redo"));
  EXPECT_EQ(LdbScan(db_), before);
}

// The kinds `recommendations --json` lists.
std::vector<std::string> Kinds(const Json& doc) {
  std::vector<std::string> kinds;
  for (const Json& r : doc["recommendations"]) kinds.push_back(r["kind"]);
  return kinds;
}

TEST_F(CliOperationsTest, RecommendationsNameWhatNeedsAttentionWithItsCommand) {
  MakeTasks(5);
  Json pending = ParseJson(Tool({"--json", "recommendations"}).out);
  EXPECT_THAT(Kinds(pending), ::testing::Contains("pending_steps"));
  EXPECT_THAT(pending["recommendations"][0]["command"].get<std::string>(),
              HasSubstr("migrate --dry-run"));

  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  // Nothing needs attention (but the machine's own disk might).
  RunResult none = Tool({"--json", "recommendations"});
  EXPECT_EQ(none.exit_code, 0);
  for (const std::string& kind : Kinds(ParseJson(none.out))) {
    EXPECT_EQ(kind, "low_disk");
  }

  // A backup 40 days old (its manifest says so), then a newer one: the
  // old one is worth pruning, the newest never is.
  Json list = ParseJson(Tool({"--json", "backups", "list"}).out)["backups"];
  ASSERT_EQ(list.size(), 1u);
  const std::string id = list[0]["id"];
  Json manifest = Json::parse(LdbRecords(db_).at(id));
  manifest["created_at"] = "2020-01-01T00:00:00.000Z";
  LdbPut(db_, {{id, manifest.dump()}});
  EXPECT_THAT(Kinds(ParseJson(Tool({"--json", "recommendations"}).out)),
              ::testing::Not(::testing::Contains("old_backups")));
  WriteFileOrDie(migrations_ + "/0003_task_add_owner.json", kTaskV3File);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  Json old = ParseJson(Tool({"--json", "recommendations"}).out);
  ASSERT_THAT(Kinds(old), ::testing::Contains("old_backups"));
  for (const Json& r : old["recommendations"]) {
    if (r["kind"] != "old_backups") continue;
    EXPECT_THAT(r["command"].get<std::string>(),
                HasSubstr("backups prune --older-than 30d --keep 1"));
  }

  // An applied file edited afterwards.
  WriteFileOrDie(migrations_ + "/0003_task_add_owner.json",
                 std::string(kTaskV3File) + "\n");
  RunResult changed = Tool({"recommendations"});
  EXPECT_THAT(changed.out, HasSubstr("warning: migration file "
                                     "0003_task_add_owner.json changed since "
                                     "it was applied"));
}

TEST_F(CliOperationsTest, RecommendationsAfterAFailureAndOnDamagedBookkeeping) {
  MakeTasks(5, {{"task:0003x", R"({"id":"x","schema_version":"one"})"}});
  ASSERT_EQ(Tool({"migrate"}).exit_code, 1);
  Json failed = ParseJson(Tool({"--json", "recommendations"}).out);
  EXPECT_THAT(Kinds(failed), ::testing::Contains("failed_run"));
  LdbPut(db_, {{"_schema_version", "x"}});
  const std::string before = LdbScan(db_);
  Json damaged = ParseJson(Tool({"--json", "recommendations"}).out);
  ASSERT_EQ(damaged["recommendations"].size(), 1u);
  EXPECT_EQ(damaged["recommendations"][0]["severity"], "critical");
  EXPECT_EQ(damaged["recommendations"][0]["kind"], "bookkeeping");
  EXPECT_THAT(damaged["recommendations"][0]["message"].get<std::string>(),
              HasSubstr("_schema_version"));
  EXPECT_EQ(LdbScan(db_), before);
}

TEST_F(CliOperationsTest, ReportHoldsStatusHistoryBackupsValidationDiskAndAdvice) {
  MakeTasks(7);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  RunResult r = Tool({"--json", "report", "--validate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = ParseJson(r.out);
  EXPECT_EQ(doc["status"]["health"], "ready");
  EXPECT_EQ(doc["status"]["current_version"], 2);
  EXPECT_EQ(doc["history"]["entries"], 1);
  EXPECT_EQ(doc["history"]["by_status"]["success"], 1);
  EXPECT_EQ(doc["history"]["records_migrated"], 7);
  EXPECT_EQ(doc["history"]["last_success"]["to"], 2);
  EXPECT_EQ(doc["backups"]["count"], 1);
  EXPECT_TRUE(doc["backups"]["list"][0]["age_seconds"].is_number());
  EXPECT_EQ(doc["validation"]["records_checked"], true);
  EXPECT_EQ(doc["validation"]["records"]["records_checked"], 7);
  EXPECT_TRUE(doc["validation"]["changed_files"].empty());
  EXPECT_GT(doc["disk"]["free_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(doc["recommendations"].is_array());

  RunResult text = Tool({"report"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("health:          ready: v2\n"));
  EXPECT_THAT(text.out, HasSubstr("not checked (report --validate scans them)"));
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
