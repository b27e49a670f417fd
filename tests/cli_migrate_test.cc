// Runs of the admin tool in the corners: SIGTERM in the middle of a run and
// the resume after it, a database held by another process (a server), and
// --no-backup. The real binaries run as subprocesses; records are read back
// with `ldb`.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/pacing.h"
#include "src/backup_store.h"
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

class CliMigrateTest : public ToolTest {};

// Generates `records` v1 tasks, starts `migrate` with `extra` flags, sends
// SIGTERM once `started` appears on its stderr (and `delay` later), and
// checks that the run stopped with exit 5, leaving every record wholly old or
// wholly new and a run in flight. Then `migrate` must finish it with every
// record correct. Returns the v1 records.
Records InterruptAndResume(CliMigrateTest* t, int records,
                           const std::vector<std::string>& extra,
                           const std::string& started,
                           std::chrono::milliseconds delay) {
  RunResult gen = RunProgram(
      ROCKSMIGRATE_GEN_BIN,
      {"--db", t->db_, "--count", absl::StrCat(records), "--seed", "7"});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  const Records v1 = LdbRecords(t->db_);
  EXPECT_EQ(v1.size(), static_cast<size_t>(records));

  std::vector<std::string> args = {"migrate", "--batch-size", "10"};
  args.insert(args.end(), extra.begin(), extra.end());
  Child run(ROCKSMIGRATE_BIN, t->Args(args));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (run.ErrSoFar().find(started) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "never saw \"" << started << "\": " << run.ErrSoFar();
      return v1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(delay);
  run.Signal(SIGTERM);
  RunResult stopped = run.Wait();
  EXPECT_EQ(stopped.exit_code, 5) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("error: interrupted"));
  EXPECT_THAT(stopped.err,
              HasSubstr(absl::StrCat("resume with `rocksmigrate --db ", t->db_,
                                     " --migrations ", t->migrations_,
                                     " migrate`")));

  // Interrupted, not finished: pending, and every record wholly old or new.
  EXPECT_EQ(t->Tool({"status", "--check"}).exit_code, 4);
  size_t migrated = 0;
  for (const auto& [k, v] : UserRecords(LdbRecords(t->db_))) {
    const std::string& old = v1.at(k);
    if (v == old) continue;
    EXPECT_EQ(v, TaskV2Of(old)) << k;
    ++migrated;
  }
  EXPECT_LT(migrated, static_cast<size_t>(records));
  if (migrated > 0) {
    Json status = ParseJson(t->Tool({"--json", "status"}).out);
    EXPECT_TRUE(status["in_flight"].is_object()) << status.dump();
    Json history = ParseJson(t->Tool({"--json", "history"}).out)["history"];
    EXPECT_EQ(history.size(), 1u);
    if (!history.empty()) {
      EXPECT_EQ(history[0]["status"], "interrupted");
    }
  }

  RunResult resumed = t->Tool({"migrate"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  Records after = LdbRecords(t->db_);
  EXPECT_EQ(after["_schema_version"], "2");
  EXPECT_EQ(after.count("_migration_progress"), 0u);
  Records user = UserRecords(after);
  EXPECT_EQ(user.size(), v1.size());
  size_t wrong = 0;
  for (const auto& [k, old] : v1) {
    if (user[k] != TaskV2Of(old) && ++wrong <= 3) {
      ADD_FAILURE() << k << " is " << user[k];
    }
  }
  EXPECT_EQ(wrong, 0u);
  Json history = ParseJson(t->Tool({"--json", "history"}).out)["history"];
  EXPECT_EQ(history.size(), 1u);
  if (!history.empty()) {
    EXPECT_EQ(history[0]["status"], "success");
    EXPECT_EQ(history[0]["items_migrated"], records);
  }
  EXPECT_EQ(t->Tool({"validate"}).exit_code, 0);
  return v1;
}

TEST_F(CliMigrateTest, SigtermStopsAfterTheCommittedBatchAndMigrateResumes) {
  // Without backups every batch commits at once and reports progress: the
  // signal lands right after the first committed batch, mid-run.
  InterruptAndResume(this, 10000, {"--no-backup"}, "records/s",
                     std::chrono::milliseconds(0));
}

TEST_F(CliMigrateTest, SigtermDuringABackedUpRunResumesAndRollsBack) {
  // With backups the engine may hold batches until their backups are
  // ingested, so the signal is sent shortly after the run starts.
  const Records v1 = InterruptAndResume(this, 10000, {}, "migrating ",
                                        std::chrono::milliseconds(100));
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
    EXPECT_EQ(status.err, "");  // Reading a held database is not an event.
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

// An online run stopped after its first batches, as a server's restart
// leaves it: `status` shows its mode, progress, rate, last progress time and
// pacing (text and --json); `migrate` finishes it and `history` says online.
TEST_F(CliMigrateTest, StatusShowsAnOnlineRunAndHistoryItsMode) {
  RunResult gen = RunProgram(ROCKSMIGRATE_GEN_BIN,
                             {"--db", db_, "--count", "500", "--seed", "7"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  {
    auto db = TestDb::Open(db_);
    MigrationRegistry registry;
    ASSERT_TRUE(RegisterMigrationDir(migrations_, &registry).ok());
    std::atomic<bool> stop{false};
    MigratorOptions o;
    o.online = true;
    o.batch_items = 50;
    o.threads = 1;
    o.pacer = std::make_shared<Pacer>();
    o.pacer->SetRecordsPerSecond(100000);
    o.stop_requested = &stop;
    o.on_progress = [&stop](const Progress& p) {
      if (p.items_done >= 100) stop = true;
    };
    auto m = Migrator::Create(db->db(), &registry, o);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(absl::IsCancelled((*m)->Migrate().status()));
  }
  RunResult st = Tool({"status"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_THAT(st.out, HasSubstr("mode online, 100 of about "));
  EXPECT_THAT(st.out, HasSubstr(" records/s, ETA "));
  EXPECT_THAT(st.out, HasSubstr("last progress 20"));
  EXPECT_THAT(st.out, HasSubstr("pacing: rate limit 100000 records/s"));
  RunResult js = Tool({"--json", "status"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  Json j = ParseJson(js.out);
  const Json& f = j["in_flight"];
  EXPECT_EQ(f["mode"], "online");
  EXPECT_EQ(f["items_migrated"], 100);
  EXPECT_GT(f["records_per_second"].get<uint64_t>(), 0u);
  EXPECT_GE(f["items_total_estimate"].get<uint64_t>(), 100u);
  EXPECT_TRUE(f["last_progress_at"].is_string());
  EXPECT_TRUE(f["eta_seconds"].is_number());
  EXPECT_EQ(f["pacing"], "rate limit 100000 records/s");
  EXPECT_EQ(f["items_kept"], 0);

  RunResult mig = Tool({"migrate"});
  ASSERT_EQ(mig.exit_code, 0) << mig.err;
  RunResult h = Tool({"history"});
  EXPECT_THAT(h.out, HasSubstr(", online"));
  RunResult hj = Tool({"--json", "history"});
  Json entries = ParseJson(hj.out);
  ASSERT_TRUE(entries.contains("history")) << hj.out;
  const Json& e = entries["history"].back();
  EXPECT_EQ(e["mode"], "online");
  EXPECT_EQ(e["items_migrated"], 500);
  // The run resumed offline kept writing digests: one per backed-up record.
  int records = 0, digests = 0;
  for (const auto& [k, v] : LdbRecords(db_)) {
    if (k.rfind("_backup_", 0) != 0) continue;
    const size_t sep = k.find_first_of(":#", 8);  // After "_backup_".
    if (sep == std::string::npos) continue;       // A manifest.
    if (k[sep] == ':') {
      ++records;
      continue;
    }
    auto block = DecodeDigestBlock(v, k);
    ASSERT_TRUE(block.ok()) << block.status();
    digests += static_cast<int>(block->size());
  }
  EXPECT_EQ(records, 500);
  EXPECT_EQ(digests, 500);
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
