// Runs of the admin tool in the corners: SIGTERM in the middle of a run and
// the resume after it, a database held by another process (a server), and
// --no-backup. The real binaries run as subprocesses; records are read back
// with `ldb`.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
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

using Records = std::map<std::string, std::string>;

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

Json ParseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not one JSON document: " << text;
  return j;
}

class CliMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.Sub("db");
    migrations_ = dir_.Sub("migrations");
    ASSERT_TRUE(std::filesystem::create_directory(migrations_));
    WriteFileOrDie(migrations_ + "/0002_task_add_dependencies.json",
                   TaskV2File());
  }

  std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_, "--migrations", migrations_});
    return args;
  }
  RunResult Tool(std::vector<std::string> args) { return RunTool(Args(args)); }

  TempDir dir_;
  std::string db_;
  std::string migrations_;
};

TEST_F(CliMigrateTest, SigtermStopsAtABatchBoundaryAndMigrateResumes) {
  // Enough records, in small synced batches, that the run is still going
  // when the signal comes.
  constexpr int kRecords = 20000;
  RunResult gen = RunProgram(
      ROCKSMIGRATE_GEN_BIN,
      {"--db", db_, "--count", absl::StrCat(kRecords), "--seed", "7"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const Records v1 = LdbRecords(db_);
  ASSERT_EQ(v1.size(), static_cast<size_t>(kRecords));

  Child run(ROCKSMIGRATE_BIN, Args({"migrate", "--batch-size", "10"}));
  // Wait for the first committed batch (the first progress line).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (run.ErrSoFar().find("records/s") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << run.ErrSoFar();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.Signal(SIGTERM);
  RunResult stopped = run.Wait();
  ASSERT_EQ(stopped.exit_code, 5) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("error: "));
  EXPECT_THAT(stopped.err,
              HasSubstr(absl::StrCat("rocksmigrate --db ", db_,
                                     " --migrations ", migrations_,
                                     " migrate")));

  // Interrupted, not finished: in flight, pending, every record wholly old
  // or wholly new.
  EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);
  Json status = ParseJson(Tool({"--json", "status"}).out);
  ASSERT_TRUE(status["in_flight"].is_object()) << status.dump();
  EXPECT_EQ(status["in_flight"]["state"], "migrating");
  Json history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "interrupted");
  size_t migrated = 0;
  for (const auto& [k, v] : UserRecords(LdbRecords(db_))) {
    const std::string& old = v1.at(k);
    if (v == old) continue;
    ASSERT_EQ(v, TaskV2Of(old)) << k;
    ++migrated;
  }
  EXPECT_GT(migrated, 0u);
  EXPECT_LT(migrated, static_cast<size_t>(kRecords));

  RunResult resumed = Tool({"migrate"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  Records after = LdbRecords(db_);
  EXPECT_EQ(after["_schema_version"], "2");
  EXPECT_EQ(after.count("_migration_progress"), 0u);
  Records user = UserRecords(after);
  ASSERT_EQ(user.size(), v1.size());
  for (const auto& [k, old] : v1) {
    ASSERT_EQ(user[k], TaskV2Of(old)) << k;
  }
  history = ParseJson(Tool({"--json", "history"}).out)["history"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "success");
  EXPECT_EQ(history[0]["items_migrated"], kRecords);
  EXPECT_EQ(Tool({"validate"}).exit_code, 0);

  // The backup of the resumed step still restores every original byte.
  ASSERT_EQ(Tool({"rollback", "--to", "1"}).exit_code, 0);
  EXPECT_EQ(UserRecords(LdbRecords(db_)), v1);
}

TEST_F(CliMigrateTest, ReadCommandsWorkWhileAServerHoldsTheDatabase) {
  Records v1;
  for (int i = 1; i <= 50; ++i) {
    v1[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  LdbPut(db_, v1);
  const std::string before = LdbScan(db_);
  {
    DbHolder server(db_);

    RunResult status = Tool({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_THAT(status.out, HasSubstr("version:    v1"));
    EXPECT_THAT(status.err, HasSubstr("secondary instance"));
    EXPECT_EQ(Tool({"status", "--check"}).exit_code, 4);
    Json doc = ParseJson(Tool({"--json", "status"}).out);
    EXPECT_EQ(doc["secondary"], true);
    EXPECT_EQ(doc["pending"].size(), 1u);
    EXPECT_EQ(Tool({"history"}).exit_code, 0);
    EXPECT_EQ(Tool({"validate"}).exit_code, 0);
    EXPECT_EQ(Tool({"backups", "list"}).exit_code, 0);
    RunResult dry = Tool({"--json", "migrate", "--dry-run"});
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(ParseJson(dry.out)["steps"][0]["items_to_migrate"], 50);

    for (const std::vector<std::string>& write :
         std::vector<std::vector<std::string>>{
             {"migrate"}, {"rollback", "--to", "0"},
             {"backups", "prune", "--keep", "0"},
             {"backups", "delete", "_backup_20260101_000000"}}) {
      RunResult r = Tool(write);
      EXPECT_EQ(r.exit_code, 3) << write[0] << ": " << r.err;
      EXPECT_THAT(r.err, StartsWith("error: "));
      EXPECT_THAT(r.err, HasSubstr("locked by another process"));
    }
  }
  EXPECT_EQ(LdbScan(db_), before);
  EXPECT_EQ(Tool({"migrate"}).exit_code, 0);  // Free again.
}

TEST_F(CliMigrateTest, NoBackupWarnsFirstAndCannotBeRolledBack) {
  Records v1;
  for (int i = 1; i <= 20; ++i) {
    v1[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  LdbPut(db_, v1);
  RunResult r = Tool({"migrate", "--no-backup"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, StartsWith("warning: --no-backup"));
  EXPECT_THAT(r.err, HasSubstr("cannot be rolled back"));
  for (const auto& [k, v] : UserRecords(LdbRecords(db_))) {
    EXPECT_EQ(v, TaskV2Of(v1.at(k)));
  }
  for (const auto& [k, v] : LdbRecords(db_)) {
    EXPECT_THAT(k, ::testing::Not(StartsWith("_backup_"))) << "backup written";
  }
  const std::string migrated = LdbScan(db_);
  RunResult rollback = Tool({"rollback", "--to", "1"});
  EXPECT_EQ(rollback.exit_code, 3) << rollback.err;
  EXPECT_EQ(LdbScan(db_), migrated);
}

TEST_F(CliMigrateTest, ThreadsAndBatchSizeGiveTheSameBytes) {
  Records v1;
  for (int i = 1; i <= 300; ++i) {
    v1[absl::StrFormat("task:%04d", i)] = absl::StrFormat(
        R"({"id":%d,"title":"t%d","schema_version":1})", i, i);
  }
  LdbPut(db_, v1);
  RunResult r = Tool({"migrate", "--threads", "3", "--batch-size", "13"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Records user = UserRecords(LdbRecords(db_));
  ASSERT_EQ(user.size(), v1.size());
  for (const auto& [k, old] : v1) EXPECT_EQ(user[k], TaskV2Of(old)) << k;
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
