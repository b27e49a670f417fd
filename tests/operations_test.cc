// Operations in the library: the health verdict, metrics and their
// Prometheus exposition (checked with `promtool check metrics`), backup
// retention, and the startup call's environment, auto-migrate switch,
// validation and retention.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/health.h"
#include "rocksmigrate/metrics.h"
#include "rocksmigrate/startup.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::ManualClock;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Dump Tasks(int n) {
  Dump d;
  for (int i = 0; i < n; ++i) {
    d[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  return d;
}

// ---------------------------------------------------------------------------
// Health.

TEST(HealthTest, EachStateInItsOrder) {
  DatabaseState s;
  s.current_version = 2;
  s.target_version = 2;
  s.has_stored_version = true;
  EXPECT_EQ(AssessHealth(s).health, Health::kReady);
  EXPECT_EQ(AssessHealth(s).summary, "ready: v2");

  DatabaseState pending = s;
  pending.target_version = 3;
  pending.pending.push_back(PendingStep{});
  EXPECT_EQ(AssessHealth(pending).health, Health::kPending);
  EXPECT_EQ(AssessHealth(pending).summary, "pending: v2 -> v3, 1 step");

  DatabaseState failed = pending;
  HistoryEntry e;
  e.from = 2;
  e.to = 3;
  e.status = StepStatus::kFailed;
  e.started_at = "2026-12-02T10:00:00.000Z";
  e.error = "bad record\nat key task:9";
  failed.recent_history.push_back(e);
  HealthReport f = AssessHealth(failed);
  EXPECT_EQ(f.health, Health::kFailed);
  EXPECT_THAT(f.summary, StartsWith("failed: step v2 -> v3 failed at "));
  EXPECT_EQ(f.summary.find('\n'), std::string::npos) << "one line";

  DatabaseState running = failed;  // A run in flight outranks the failure.
  running.in_flight = InFlight{};
  running.in_flight->from = 2;
  running.in_flight->to = 3;
  running.in_flight->items_migrated = 40;
  running.in_flight->items_total_estimate = 100;
  HealthReport r = AssessHealth(running);
  EXPECT_EQ(r.health, Health::kRunning);
  EXPECT_THAT(r.summary, HasSubstr("40 records done of about 100"));

  DatabaseState refused = running;  // Untrusted bookkeeping outranks all.
  refused.bookkeeping_status =
      absl::FailedPreconditionError("_schema_version is not a number");
  EXPECT_EQ(AssessHealth(refused).health, Health::kRefused);
  EXPECT_THAT(AssessHealth(refused).summary, HasSubstr("_schema_version"));

  DatabaseState newer = s;
  newer.current_version = 9;
  newer.newer_than_supported = true;
  EXPECT_EQ(AssessHealth(newer).health, Health::kRefused);

  DatabaseState gap = pending;
  gap.pending.clear();
  gap.plan_status = absl::InvalidArgumentError("no migration from v2");
  EXPECT_EQ(AssessHealth(gap).health, Health::kRefused);

  DatabaseState empty;
  empty.empty = true;
  empty.current_version = 1;
  empty.target_version = 3;
  EXPECT_EQ(AssessHealth(empty).health, Health::kPending);
}

// ---------------------------------------------------------------------------
// Retention.

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDb::Open(dir_.Sub("db"));
    db_->Put(Tasks(20));
    for (int from = 1; from <= 3; ++from) {
      ASSERT_THAT(registry_.Register(std::make_unique<AddField>(
                      from, "task:", absl::StrCat("f", from), from)),
                  IsOk());
    }
    MigratorOptions o;
    o.clock = clock_.fn();
    migrator_ = MakeMigrator(db_->db(), &registry_, o);
    // Three backups, one a step: on Nov 1, Nov 10 and Nov 20.
    int target = 2;
    for (int day : {1, 10, 20}) {
      clock_.Set(absl::CivilSecond(2026, 11, day, 12, 0, 0));
      ASSERT_THAT(migrator_->Migrate(target), IsOk());
      if (target == 3) v3_ = db_->DumpUser();
      ++target;
    }
    auto list = migrator_->ListBackups();
    ASSERT_THAT(list, IsOk());
    ASSERT_EQ(list->size(), 3u);
    for (const BackupInfo& b : *list) ids_.push_back(b.id);
    clock_.Set(absl::CivilSecond(2026, 11, 25, 12, 0, 0));
  }

  std::vector<std::string> Left() {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<BackupInfo>> list = migrator_->ListBackups();
    EXPECT_THAT(list, IsOk());
    if (list.ok()) {
      for (const BackupInfo& b : *list) out.push_back(b.id);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<TestDb> db_;
  MigrationRegistry registry_;
  ManualClock clock_;
  std::unique_ptr<Migrator> migrator_;
  std::vector<std::string> ids_;  // Oldest first.
  Dump v3_;                       // The records at v3.
};

TEST_F(RetentionTest, OlderThanDeletesOnlyOldBackupsAndTheirRecords) {
  RetentionPolicy p;
  p.older_than = absl::Hours(24 * 7);  // Nov 18 and before.
  auto deleted = migrator_->PruneBackups(p);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(*deleted, (std::vector<std::string>{ids_[0], ids_[1]}));
  EXPECT_EQ(Left(), (std::vector<std::string>{ids_[2]}));
  const Dump all = db_->DumpAll();
  EXPECT_TRUE(WithPrefix(all, ids_[0]).empty());
  EXPECT_TRUE(WithPrefix(all, ids_[1]).empty());
  EXPECT_EQ(WithPrefix(all, ids_[2] + ":").size(), 20u);
  // The newest step can still be rolled back.
  EXPECT_THAT(migrator_->Rollback(3), IsOk());
  EXPECT_EQ(db_->DumpUser(), v3_);
}

TEST_F(RetentionTest, KeepIsAFloorUnderOlderThan) {
  RetentionPolicy p;
  p.older_than = absl::Hours(24);  // All three are older.
  p.keep = 2;
  auto deleted = migrator_->PruneBackups(p);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(*deleted, (std::vector<std::string>{ids_[0]}));
  EXPECT_EQ(Left(), (std::vector<std::string>{ids_[1], ids_[2]}));
}

TEST_F(RetentionTest, NothingOldEnoughDeletesNothing) {
  const Dump before = db_->DumpAll();
  RetentionPolicy p;
  p.older_than = absl::Hours(24 * 60);
  auto deleted = migrator_->PruneBackups(p);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_TRUE(deleted->empty());
  EXPECT_EQ(db_->DumpAll(), before);
}

TEST_F(RetentionTest, NegativeAgeIsRefusedWithNothingDeleted) {
  const Dump before = db_->DumpAll();
  RetentionPolicy p;
  p.older_than = -absl::Hours(1);
  EXPECT_THAT(migrator_->PruneBackups(p),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db_->DumpAll(), before);
}

TEST(BackupSizeTest, ListedBackupsCarryTheirSizeInMemtablesAndFiles) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;  // About 1 MB: many data blocks once flushed.
  for (int i = 0; i < 4000; ++i) {
    records[absl::StrFormat("task:%05d", i)] = absl::StrFormat(
        R"({"id":%d,"body":"%s","schema_version":1})", i, std::string(240, 'x'));
  }
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  ASSERT_THAT(m->Migrate(), IsOk());
  for (bool flushed : {false, true}) {
    if (flushed) {
      ASSERT_TRUE(db->db()->Flush(rocksdb::FlushOptions()).ok());
    }
    absl::StatusOr<std::vector<BackupInfo>> list = m->ListBackups();
    ASSERT_THAT(list, IsOk());
    ASSERT_EQ(list->size(), 1u);
    // Keys and values of 4,000 records of ~280 bytes, compressed or not.
    EXPECT_GT((*list)[0].approximate_bytes, 20u * 1000u) << flushed;
    EXPECT_LT((*list)[0].approximate_bytes, 4u * 1000u * 1000u) << flushed;
  }
}

// ---------------------------------------------------------------------------
// Metrics.

std::string Promtool(const std::string& text, const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/metrics.prom");
  std::ofstream(path) << text;
  const std::string cmd =
      absl::StrCat(PROMTOOL_BIN, " check metrics < ", path, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = p == nullptr ? -1 : pclose(p);
  return rc == 0 ? std::string() : absl::StrCat("promtool: ", rc, ": ", out);
}

TEST(MetricsTest, SnapshotAfterARunAndItsExpositionPassesPromtool) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(30));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<AddField>(2, "task:", "b", 2)), IsOk());
  auto m = MakeMigrator(db->db(), &r, testing::SmallBatches(7));

  auto before = CollectMetrics(*m);
  ASSERT_THAT(before, IsOk());
  EXPECT_EQ(before->schema_version, 1);
  EXPECT_EQ(before->target_version, 3);
  EXPECT_EQ(before->pending_steps, 2u);
  EXPECT_EQ(before->health, Health::kPending);
  EXPECT_FALSE(before->last_success.has_value());
  EXPECT_EQ(Promtool(ToPrometheusText(*before), dir.path()), "");

  RunCounters counters;
  MigratorOptions o = testing::SmallBatches(7);
  o.on_progress = [&counters](const Progress& p) { counters.Observe(p); };
  auto run = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(run->Migrate(), IsOk());

  auto after = CollectMetrics(*m);
  ASSERT_THAT(after, IsOk());
  counters.AddTo(&*after);
  EXPECT_EQ(after->schema_version, 3);
  EXPECT_EQ(after->health, Health::kReady);
  EXPECT_EQ(after->records_migrated_total, 60u);
  EXPECT_EQ(after->steps_total.at("success"), 2u);
  EXPECT_EQ(after->backups, 2u);
  EXPECT_GT(after->backup_bytes, 0u);
  EXPECT_TRUE(after->last_success.has_value());
  // 30 records in batches of 7: 5 batches a step.
  EXPECT_EQ(after->batches_committed_total, 10u);
  EXPECT_GT(after->bytes_written_total, 60u * 20u);

  const std::string text = ToPrometheusText(*after);
  EXPECT_EQ(Promtool(text, dir.path()), "") << text;
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_schema_version 3\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_records_migrated_total 60\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_steps_total{status=\"success\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_health{state=\"ready\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nrocksmigrate_batches_committed_total 10\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE rocksmigrate_last_success_timestamp_seconds gauge"));
}

TEST(MetricsTest, PromtoolRejectsABrokenExposition) {
  // The check above can fail: a counter without _total is an error.
  TempDir dir;
  EXPECT_NE(Promtool("# HELP x_bytes y\n# TYPE x_bytes counter\nx_bytes 1\n",
                     dir.path()),
            "");
}

TEST(MetricsTest, WriteFileAtomicallyNamesAPathItCannotWrite) {
  absl::Status s = WriteFileAtomically("/nonexistent/dir/m.prom", "x 1\n");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("/nonexistent/dir/m.prom"));
  TempDir dir;
  const std::string path = dir.Sub("m.prom");
  ASSERT_THAT(WriteFileAtomically(path, "a 1\n"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "b 2\n"), IsOk());
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "b 2\n");
}

// ---------------------------------------------------------------------------
// Startup: environment, auto-migrate off, validation, retention.

using Env = std::map<std::string, std::string>;
std::function<const char*(const char*)> From(const Env& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

TEST(StartupEnvironmentTest, ReadsEveryVariable) {
  const Env env = {{"ROCKSMIGRATE_AUTO_MIGRATE", "off"},
                   {"ROCKSMIGRATE_FOREGROUND_BUDGET", "30s"},
                   {"ROCKSMIGRATE_WHEN_BUDGET_RUNS_OUT", "background"},
                   {"ROCKSMIGRATE_VALIDATE", "on"},
                   {"ROCKSMIGRATE_BACKUP_KEEP", "3"},
                   {"ROCKSMIGRATE_BACKUP_MAX_AGE", "30d"},
                   {"ROCKSMIGRATE_PAUSE_FILE", "/run/pause"},
                   {"ROCKSMIGRATE_RECORDS_PER_SECOND", "5000"}};
  auto o = StartupOptionsFromEnvironment(From(env));
  ASSERT_THAT(o, IsOk());
  EXPECT_FALSE(o->auto_migrate);
  EXPECT_EQ(o->foreground_budget, absl::Seconds(30));
  EXPECT_EQ(o->when_budget_runs_out,
            StartupOptions::WhenBudgetRunsOut::kContinueInBackground);
  EXPECT_TRUE(o->validate_after);
  ASSERT_TRUE(o->backup_retention.has_value());
  EXPECT_EQ(o->backup_retention->keep, 3u);
  EXPECT_EQ(o->backup_retention->older_than, absl::Hours(24 * 30));
  EXPECT_EQ(o->pacing.pause_file, "/run/pause");
  EXPECT_EQ(o->pacing.records_per_second, 5000u);

  auto defaults = StartupOptionsFromEnvironment(From({}));
  ASSERT_THAT(defaults, IsOk());
  EXPECT_TRUE(defaults->auto_migrate);
  EXPECT_EQ(defaults->foreground_budget, absl::InfiniteDuration());
  EXPECT_FALSE(defaults->backup_retention.has_value());
  auto inf = StartupOptionsFromEnvironment(
      From({{"ROCKSMIGRATE_FOREGROUND_BUDGET", "inf"}}));
  ASSERT_THAT(inf, IsOk());
  EXPECT_EQ(inf->foreground_budget, absl::InfiniteDuration());
}

TEST(StartupEnvironmentTest, ABadValueNamesItsVariable) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"ROCKSMIGRATE_AUTO_MIGRATE", "maybe"},
           {"ROCKSMIGRATE_FOREGROUND_BUDGET", "soon"},
           {"ROCKSMIGRATE_FOREGROUND_BUDGET", "-5s"},
           {"ROCKSMIGRATE_WHEN_BUDGET_RUNS_OUT", "wait"},
           {"ROCKSMIGRATE_VALIDATE", "2"},
           {"ROCKSMIGRATE_BACKUP_KEEP", "-1"},
           {"ROCKSMIGRATE_BACKUP_MAX_AGE", "0"},
           {"ROCKSMIGRATE_RECORDS_PER_SECOND", "fast"}}) {
    const Env env = {{name, value}};
    auto o = StartupOptionsFromEnvironment(From(env));
    ASSERT_FALSE(o.ok()) << name << "=" << value;
    EXPECT_THAT(o.status(), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(o.status().message()),
                HasSubstr(absl::StrCat(name, " is \"", value, "\"")));
  }
}

TEST(StartupOperationsTest, AutoMigrateOffRefusesPendingWorkWithNothingWritten) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(5));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
  const Dump before = db->DumpAll();
  StartupOptions off;
  off.auto_migrate = false;
  auto refused = MigrateOnStartup(db->db(), r, {}, off);
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("v1 -> v2, 1 step(s) pending"));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("rocksmigrate migrate"));
  EXPECT_EQ(db->DumpAll(), before);
  // Once migrated, the same options start.
  ASSERT_THAT(MigrateOnStartup(db->db(), r), IsOk());
  auto up = MigrateOnStartup(db->db(), r, {}, off);
  ASSERT_THAT(up, IsOk());
  EXPECT_TRUE((*up)->done());
}

// A JSON migration that writes its records without a schema_version: what
// validation is there to catch.
class ForgetsVersion : public testing::FuncMigration {
 public:
  ForgetsVersion()
      : FuncMigration(1, "forgets_version", "note:",
                      [](std::string_view, std::string_view) {
                        return absl::StatusOr<ItemResult>(
                            ItemResult::Write(R"({"note":true})"));
                      }) {}
  bool records_are_json() const override { return true; }
};

TEST(StartupOperationsTest, ValidateAfterFailsTheStartOnABadRecord) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(5));
  db->Put("note:1", R"({"note":1,"schema_version":1})");
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<ForgetsVersion>()), IsOk());
  StartupOptions validate;
  validate.validate_after = true;
  auto h = MigrateOnStartup(db->db(), r, {}, validate);
  EXPECT_THAT(h.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("note:1"));
  // The migration itself stands.
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "2");
}

TEST(StartupOperationsTest, RetentionAfterASuccessfulRun) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(5));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<AddField>(2, "task:", "b", 1)), IsOk());
  StartupOptions keep_one;
  keep_one.backup_retention = RetentionPolicy{1, std::nullopt};
  auto h = MigrateOnStartup(db->db(), r, {}, keep_one);
  ASSERT_THAT(h, IsOk());
  const MigrationSnapshot snap = (*h)->snapshot();
  ASSERT_EQ(snap.phase, MigrationSnapshot::Phase::kDone);
  EXPECT_EQ(snap.pruned_backups.size(), 1u);
  auto m = MakeMigrator(db->db(), &r);
  auto left = m->ListBackups();
  ASSERT_THAT(left, IsOk());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].from, 2);  // The newest step's backup stays.
}

// ---------------------------------------------------------------------------
// The supported-version window.

TEST(SupportedWindowTest, BelowTheWindowIsRefusedWithNothingWritten) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(3, "task:", "c", 3)), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<AddField>(4, "task:", "d", 4)), IsOk());
  ASSERT_THAT(r.SetOldestSupportedVersion(3, "upgrade through release 2.0"),
              IsOk());
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(4));  // No _schema_version: the baseline, v1.
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  auto run = m->Migrate();
  EXPECT_THAT(run.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(run.status().message()),
              HasSubstr("at v1, below v3, the oldest version"));
  EXPECT_THAT(std::string(run.status().message()),
              HasSubstr("upgrade through release 2.0"));
  EXPECT_EQ(db->DumpAll(), before);
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_THAT(state->plan_status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(AssessHealth(*state).health, Health::kRefused);
  EXPECT_THAT(MigrateOnStartup(db->db(), r),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db->DumpAll(), before);

  // At the window's bottom it migrates.
  db->Put("_schema_version", "3");
  ASSERT_THAT(m->Migrate(), IsOk());
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "5");
}

TEST(SupportedWindowTest, EmptyDatabaseIsStampedAndOnlyAWindowIsATarget) {
  MigrationRegistry r;
  ASSERT_THAT(r.SetOldestSupportedVersion(4), IsOk());  // Every step squashed.
  EXPECT_EQ(r.target_version(1), 4);
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  ASSERT_THAT(MigrateOnStartup(db->db(), r), IsOk());
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "4");
}

TEST(SupportedWindowTest, MigrationsBelowTheWindowAreDefinitionErrors) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(2, "task:", "b", 2)), IsOk());
  EXPECT_THAT(r.SetOldestSupportedVersion(3),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.SetOldestSupportedVersion(0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(r.SetOldestSupportedVersion(2), IsOk());
  EXPECT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------------------
// Redo.

TEST(RedoTest, CxxStepsNeedForceAndComeBackWithTheNewDefinition) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(6));
  {
    MigrationRegistry r;
    ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)), IsOk());
    auto m = MakeMigrator(db->db(), &r, testing::SmallBatches(4));
    EXPECT_THAT(m->Redo().status(),
                StatusIs(absl::StatusCode::kFailedPrecondition));  // Nothing applied.
    ASSERT_THAT(m->Migrate(), IsOk());
    const Dump migrated = db->DumpAll();
    auto refused = m->Redo();
    EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("C++ migrations carry no checksum"));
    EXPECT_EQ(db->DumpAll(), migrated);
  }
  // The same step, now adding another value: force re-applies it.
  MigrationRegistry r2;
  ASSERT_THAT(r2.Register(std::make_unique<AddField>(1, "task:", "a", 2)), IsOk());
  auto m2 = MakeMigrator(db->db(), &r2, testing::SmallBatches(4));
  auto report = m2->Redo(/*force=*/true);
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->steps.size(), 2u);
  EXPECT_EQ(report->steps[0].status, StepStatus::kRolledBack);
  EXPECT_EQ(report->steps[1].status, StepStatus::kSuccess);
  EXPECT_EQ(db->DumpUser().at("task:000"), R"({"id":0,"schema_version":2,"a":2})");
  // Rolled back from the new step's backup, the original bytes come back.
  ASSERT_THAT(m2->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), Tasks(6));
}

}  // namespace
}  // namespace rocksmigrate
