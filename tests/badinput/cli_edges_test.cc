// The bad-input campaign through the real admin tool: migration files
// edited, removed or added between a kill and a resume; each refusal's way
// out, followed as a user would; and the tool's corner cases the issue that
// opened this campaign listed. Databases are built and read with RocksDB's
// own `ldb`.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/startup.h"
#include "tests/cli_test_util.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Records = std::map<std::string, std::string>;
using Json = nlohmann::json;

std::string TaskV1(int i) {
  return absl::StrFormat(R"({"id":%d,"title":"t%d","schema_version":1})", i, i);
}

// A second step that adds a field (v2 -> v3), as a file.
std::string StepFile(int to, const std::string& name, const std::string& patch) {
  return absl::StrFormat(
      R"({"from":%d,"to":%d,"name":"%s","prefix":"task:","patch":%s})",
      to - 1, to, name, patch);
}

class CliEdgesTest : public ToolTest {
 protected:
  // The tool with RM_FAULT_POINT armed: killed (SIGKILL) at `point`.
  RunResult KilledTool(const std::string& point,
                       std::vector<std::string> args) {
    ::setenv("RM_FAULT_POINT", point.c_str(), 1);
    RunResult r = RunProgram(RM_FAULT_TOOL, Args(std::move(args)));
    ::unsetenv("RM_FAULT_POINT");
    return r;
  }

  Records MakeTasks(int n) {
    Records records;
    for (int i = 1; i <= n; ++i) {
      records[absl::StrFormat("task:%04d", i)] = TaskV1(i);
    }
    LdbPut(db_, records);
    return records;
  }
};

constexpr int kKilled = 128 + SIGKILL;

// A run killed mid-step, then resumed after its migration file was edited:
// it used to apply the old patch to the first records and the new one to
// the rest, exit 0, and record the old checksum. Now the resume is refused
// naming the file, nothing is written, and both ways out work.
TEST_F(CliEdgesTest, EditedFileBetweenAKillAndTheResumeIsRefusedNamingIt) {
  MakeTasks(50);
  const std::string file = migrations_ + "/0002_task_add_dependencies.json";
  const std::string original = ReadFileOrDie(file);
  RunResult killed =
      KilledTool("after_commit:3", {"migrate", "--batch-size", "5"});
  ASSERT_EQ(killed.exit_code, kKilled) << killed.err;
  const std::string before = LdbScan(db_);

  // Edited.
  WriteFileOrDie(file, StepFile(2, "task_add_dependencies",
                                R"([{"op":"add","path":"/depends_on","value":[1]}])"));
  RunResult r = Tool({"migrate"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("0002_task_add_dependencies.json changed"));
  EXPECT_THAT(r.err, HasSubstr("abandon"));
  EXPECT_EQ(LdbScan(db_), before) << "a refused resume wrote";
  RunResult s = Tool({"status", "--check"});
  EXPECT_EQ(s.exit_code, 3) << s.out << s.err;
  EXPECT_THAT(s.out, HasSubstr("changed since the run started"));

  // Removed, and a file added to the step.
  std::filesystem::remove(file);
  WriteFileOrDie(migrations_ + "/0002_other.json",
                 R"({"from":1,"to":2,"name":"other","prefix":"note:","patch":[]})");
  r = Tool({"migrate"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the run started with [task_add_dependencies]"));
  EXPECT_EQ(LdbScan(db_), before);
  std::filesystem::remove(migrations_ + "/0002_other.json");

  // Way out 1: put the file back as it was; the resume finishes exactly.
  WriteFileOrDie(file, original);
  r = Tool({"migrate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [k, v] : LdbRecords(db_)) {
    if (k.rfind("task:", 0) != 0) continue;
    EXPECT_THAT(v, HasSubstr(R"("depends_on":[])")) << k;
    EXPECT_THAT(v, HasSubstr(R"("schema_version":2)")) << k;
  }
}

TEST_F(CliEdgesTest, AbandonRestoresTheRunInFlightAndRecordsItAborted) {
  const Records v1 = MakeTasks(40);
  RunResult killed =
      KilledTool("after_commit:2", {"migrate", "--batch-size", "5"});
  ASSERT_EQ(killed.exit_code, kKilled) << killed.err;
  // Way out 2: give the run up, then migrate with the new file.
  const std::string file = migrations_ + "/0002_task_add_dependencies.json";
  WriteFileOrDie(file, StepFile(2, "task_add_dependencies",
                                R"([{"op":"add","path":"/depends_on","value":[1]}])"));
  RunResult a = Tool({"abandon"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.out, HasSubstr("(aborted)"));
  Records after = LdbRecords(db_);
  for (const auto& [k, v] : v1) EXPECT_EQ(after[k], v) << k;
  EXPECT_EQ(after.count("_migration_progress"), 0u);
  EXPECT_EQ(after.count("_schema_version"), 0u) << "the version never moved";
  RunResult h = Tool({"history", "--json"});
  Json history = Json::parse(h.out);
  ASSERT_EQ(history["history"].size(), 1u);
  EXPECT_EQ(history["history"][0]["status"], "aborted");
  // No backup is left behind.
  RunResult b = Tool({"backups", "list"});
  EXPECT_THAT(b.out, HasSubstr("no backups"));
  // Nothing in flight now: abandon says so, and writes nothing.
  const std::string before = LdbScan(db_);
  RunResult again = Tool({"abandon"});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_THAT(again.err, HasSubstr("no run is in flight"));
  EXPECT_EQ(LdbScan(db_), before);
  // The new file then applies to every record.
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  for (const auto& [k, v] : LdbRecords(db_)) {
    if (k.rfind("task:", 0) == 0) {
      EXPECT_THAT(v, HasSubstr(R"("depends_on":[1])"));
    }
  }
}

// "rollback --to 0" with a run in flight used to restore the records and
// then say "nothing was changed". Now the rollback is checked whole before
// its first write: it refuses, and nothing was indeed changed.
TEST_F(CliEdgesTest, ARollbackThatCannotFinishIsRefusedBeforeItsFirstWrite) {
  MakeTasks(30);
  ASSERT_EQ(KilledTool("after_commit:2", {"migrate", "--batch-size", "5"})
                .exit_code,
            kKilled);
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"rollback", "--to", "0"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(LdbScan(db_), before);
}

// After a rollback killed mid-way, status's hint used to lead to a migrate
// that finished the restore and then migrated straight back up. Now any
// command finishes the rollback as a rollback, and migrate stops there.
TEST_F(CliEdgesTest, AnInterruptedRollbackIsFinishedAsARollback) {
  const Records v1 = MakeTasks(2500);  // Three restore batches.
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  ASSERT_EQ(KilledTool("rollback_batch:2",
                       {"rollback", "--to", "1"})
                .exit_code,
            kKilled);
  RunResult s = Tool({"status"});
  EXPECT_THAT(s.out, HasSubstr("rollback --to 1"));
  EXPECT_THAT(s.out, HasSubstr("finishes the interrupted rollback"));
  RunResult m = Tool({"migrate"});
  EXPECT_EQ(m.exit_code, 1) << m.err;
  EXPECT_THAT(m.err, HasSubstr("interrupted rollback"));
  EXPECT_THAT(m.err, HasSubstr("not migrated up"));
  Records after = LdbRecords(db_);
  for (const auto& [k, v] : v1) EXPECT_EQ(after[k], v) << k;
  EXPECT_EQ(after["_schema_version"], "1");
  EXPECT_EQ(after.count("_migration_progress"), 0u);
  // Only the next migrate goes up.
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  EXPECT_EQ(LdbRecords(db_)["_schema_version"], "2");
}

// An unreadable _migration_history used to make migrate rewrite every
// record and only then exit 3. Now it refuses before the first write, and
// the named repair gets out.
TEST_F(CliEdgesTest, UnreadableHistoryRefusesUpFrontAndTheRepairGetsOut) {
  MakeTasks(20);
  LdbPut(db_, {{"_migration_history", "not json at all"}});
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"migrate"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("_migration_history"));
  EXPECT_THAT(r.err, HasSubstr("repair remove-key _migration_history --confirm"));
  EXPECT_EQ(LdbScan(db_), before);
  RunResult s = Tool({"status"});
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_THAT(s.out, HasSubstr("problem:"));
  // The repair wants a confirmation, and without it changes nothing.
  RunResult dry = Tool({"repair", "remove-key", "_migration_history"});
  EXPECT_EQ(dry.exit_code, 2);
  EXPECT_THAT(dry.err, HasSubstr("add --confirm"));
  EXPECT_EQ(LdbScan(db_), before);
  RunResult fix =
      Tool({"repair", "remove-key", "_migration_history", "--confirm"});
  ASSERT_EQ(fix.exit_code, 0) << fix.err;
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 0);
}

TEST_F(CliEdgesTest, DamagedVersionIsRefusedAndSetVersionGetsOut) {
  MakeTasks(10);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  LdbPut(db_, {{"_schema_version", "two"}});
  const std::string before = LdbScan(db_);
  for (std::vector<std::string> cmd :
       std::vector<std::vector<std::string>>{{"status"},
                                             {"migrate"},
                                             {"migrate", "--dry-run"},
                                             {"rollback", "--to", "1"},
                                             {"validate"}}) {
    RunResult r = Tool(cmd);
    EXPECT_EQ(r.exit_code, 3) << cmd[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("_schema_version")) << cmd[0];
  }
  EXPECT_EQ(LdbScan(db_), before);
  RunResult fix = Tool({"repair", "set-version", "2", "--confirm"});
  ASSERT_EQ(fix.exit_code, 0) << fix.err;
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 0);
  RunResult h = Tool({"history"});
  EXPECT_THAT(h.out, HasSubstr("v2 -> v2  stamped"));
  // The step before the repair can still be rolled back: the repair's
  // stamp went from v2 to v2.
  RunResult back = Tool({"rollback", "--to", "1"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
}

// An unreadable backup manifest used to block status, backups list,
// delete, prune and rollback with no way to remove it.
TEST_F(CliEdgesTest, UnreadableManifestIsListedAndCanBeDeleted) {
  MakeTasks(10);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  const std::string bad = "_backup_20200101_000000";
  LdbPut(db_, {{bad, "{garbage"}, {bad + ":task:0001", "x"}});
  RunResult s = Tool({"status"});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_THAT(s.out, HasSubstr("unreadable manifest " + bad));
  RunResult l = Tool({"backups", "list"});
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_THAT(l.out, HasSubstr(bad + "      UNREADABLE"));
  RunResult v = Tool({"backups", "verify", bad});
  EXPECT_EQ(v.exit_code, 1);
  // Prune keeps it (what it holds is unknown) and deletes nothing else.
  RunResult p = Tool({"backups", "prune", "--keep", "5"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  RunResult d = Tool({"backups", "delete", bad});
  EXPECT_EQ(d.exit_code, 3);
  EXPECT_THAT(d.err, HasSubstr("needs force"));
  RunResult f = Tool({"backups", "delete", bad, "--force"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  Records after = LdbRecords(db_);
  EXPECT_EQ(after.count(bad), 0u);
  EXPECT_EQ(after.count(bad + ":task:0001"), 0u);
  // The good backup is whole and the step rolls back.
  RunResult ok = Tool({"backups", "list", "--json"});
  Json list = Json::parse(ok.out);
  ASSERT_EQ(list["backups"].size(), 1u);
  const std::string good = list["backups"][0]["id"];
  EXPECT_EQ(Tool({"backups", "verify", good}).exit_code, 0);
  EXPECT_EQ(Tool({"rollback", "--to", "1"}).exit_code, 0);
}

// rollback used to restore from a backup missing records, report success,
// and leave those records at the new version.
TEST_F(CliEdgesTest, RollbackFromABackupMissingRecordsIsDataLossAndChangesNothing) {
  MakeTasks(20);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  Json list = Json::parse(Tool({"backups", "list", "--json"}).out);
  const std::string id = list["backups"][0]["id"];
  RunResult del = RunProgram(LDB_BIN, {"--db=" + db_, "delete", id + ":task:0007"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  const std::string before = LdbScan(db_);
  RunResult r = Tool({"rollback", "--to", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("holds 19 records where the step backed up 20"));
  EXPECT_THAT(r.err, HasSubstr("backups verify " + id));
  EXPECT_EQ(LdbScan(db_), before);
  RunResult v = Tool({"backups", "verify", id});
  EXPECT_EQ(v.exit_code, 1);
}

// The library (MigrateOnStartup, default options) and the tool now agree
// where backups go (the default column family) and each step records where
// its backup is: the tool finds a server's backups even when the database
// has a rocksmigrate_backups column family, and rolls back from them.
TEST_F(CliEdgesTest, BackupsRecordTheirColumnFamilyAndEveryReaderFindsThem) {
  MakeTasks(12);
  // A run whose backups go to a dedicated column family...
  RunResult m = Tool({"migrate", "--backup-cf", "rocksmigrate_backups"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  Json h = Json::parse(Tool({"history", "--json"}).out);
  EXPECT_EQ(h["history"][0]["backup_column_family"], "rocksmigrate_backups");
  // ...is rolled back by a run that is not told where they are.
  ASSERT_EQ(Tool({"rollback", "--to", "1"}).exit_code, 0);
  // And by default, backups go to the default column family, even though
  // the database now has the dedicated one.
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  h = Json::parse(Tool({"history", "--json"}).out);
  EXPECT_EQ(h["history"][1]["backup_column_family"], "default");
  RunResult l = Tool({"backups", "list"});
  EXPECT_THAT(l.out, Not(HasSubstr("[column family")));
  ASSERT_EQ(Tool({"rollback", "--to", "1"}).exit_code, 0);
}

// A server's MigrateOnStartup (default options) used to write backups to
// the default column family while the tool looked for them in
// rocksmigrate_backups when the database had one: the tool could not find
// or roll back the server's backups.
TEST_F(CliEdgesTest, TheToolRollsBackWhatAServersStartupCallBackedUp) {
  const Records v1 = MakeTasks(15);
  {
    auto db = TestDb::Open(db_, /*backup_cf=*/true);  // Has the family.
    MigrationRegistry registry;
    ASSERT_THAT(RegisterMigrationDir(migrations_, &registry), IsOk());
    ASSERT_THAT(MigrateOnStartup(db->db(), registry), IsOk());
  }
  RunResult l = Tool({"backups", "list", "--json"});
  Json list = Json::parse(l.out);
  ASSERT_EQ(list["backups"].size(), 1u) << l.out;
  EXPECT_EQ(list["backups"][0]["column_family"], "default");
  RunResult r = Tool({"rollback", "--to", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Records after = LdbRecords(db_);
  for (const auto& [k, v] : v1) EXPECT_EQ(after[k], v) << k;
}

// An empty migrations directory on a v2 database used to make status
// --check say "up to date" (target v1) and migrate advise rollback.
TEST_F(CliEdgesTest, NoMigrationsOnAMigratedDatabaseIsANewerSchema) {
  MakeTasks(5);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  std::filesystem::remove(migrations_ + "/0002_task_add_dependencies.json");
  RunResult s = Tool({"status", "--check"});
  EXPECT_EQ(s.exit_code, 3) << s.out << s.err;
  EXPECT_THAT(s.err, HasSubstr("no migrations loaded"));
  RunResult m = Tool({"migrate"});
  EXPECT_EQ(m.exit_code, 3) << m.err;
  EXPECT_THAT(m.err, HasSubstr("newer than this binary supports"));
  EXPECT_THAT(m.err, Not(HasSubstr("rollback")));
}

// A record whose schema_version is above the step: migrate skips it and
// says so; validate reports it apart (not a problem), with the number as
// stored (2^64-1 used to print as 2^63-1).
TEST_F(CliEdgesTest, RecordsAboveTheStepAreTreatedAlikeAndPrintedAsStored) {
  MakeTasks(3);
  LdbPut(db_, {{"task:0009", R"({"id":9,"schema_version":18446744073709551615})"}});
  RunResult m = Tool({"migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_THAT(m.out, HasSubstr("1 already above v2"));
  EXPECT_EQ(LdbRecords(db_)["task:0009"],
            R"({"id":9,"schema_version":18446744073709551615})");
  RunResult v = Tool({"validate"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_THAT(v.out, HasSubstr("schema_version is 18446744073709551615, above 2"));
  RunResult h = Tool({"history"});
  EXPECT_THAT(h.out, HasSubstr("1 above the step's version"));
}

// Every flag and argument of the commands this campaign added, fed garbage:
// a usage error (exit 2) that names what is wrong, and nothing written.
TEST_F(CliEdgesTest, BadFlagsAndArgumentsOfTheNewCommandsChangeNothing) {
  MakeTasks(5);
  ASSERT_EQ(Tool({"migrate"}).exit_code, 0);
  const std::string before = LdbScan(db_);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"migrate", "--backup-cf", ""}, "--backup-cf"},
      {{"migrate", "--backup-cf", "default"}, "--backup-cf"},
      {{"migrate", "--dry-run", "--backup-cf", "x"}, "--backup-cf"},
      {{"migrate", "--no-backup", "--backup-cf", "x"}, "--backup-cf"},
      {{"migrate", "--backup-cf"}, "needs a value"},
      {{"repair", "set-version", "abc", "--confirm"}, "set-version needs a version"},
      {{"repair", "set-version", "-1", "--confirm"}, "set-version needs a version"},
      {{"repair", "set-version", "99999999999", "--confirm"}, "set-version needs a version"},
      {{"repair", "remove-key", "_custom", "--confirm"}, "not a bookkeeping key"},
      {{"repair", "remove-key", "task:0001", "--confirm"}, "not a bookkeeping key"},
      {{"repair", "remove-key", "_backup_20200101_000000", "--confirm"},
       "a backup is deleted as a backup"},
      {{"repair", "frobnicate", "x"}, "usage: repair"},
      {{"repair", "remove-key"}, "usage: repair"},
      {{"repair", "remove-key", "_schema_version"}, "add --confirm"},
      {{"abandon", "now"}, "unexpected argument"},
      {{"backups", "verify"}, "usage: backups"},
      {{"backups", "verify", "not-an-id"}, "is not a backup id"},
      {{"backups", "delete", "not-an-id", "--force"}, "is not a backup id"},
      {{"backups", "list", "--force"}, "--force only goes with backups delete"},
      {{"status", "--confirm"}, "status does not take --confirm"},
  };
  for (const Case& c : cases) {
    RunResult r = Tool(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.args[1] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says)) << c.args[0] << " " << c.args[1];
    EXPECT_EQ(LdbScan(db_), before) << c.args[0] << " " << c.args[1];
  }
  // Well-formed but naming nothing there: NotFound (exit 1), nothing written.
  RunResult absent = Tool({"backups", "verify", "_backup_20200101_000000"});
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("no backup _backup_20200101_000000"));
  RunResult gone = Tool({"repair", "remove-key", "_migration_progress", "--confirm"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("_migration_progress is absent"));
  EXPECT_EQ(LdbScan(db_), before);
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
