// Rollback: restores every byte from the backups the history names, newest
// step first; refuses (writing nothing) when a backup is missing.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::CopyHistory;
using ::rocksmigrate::testing::EraseHistory;
using ::rocksmigrate::testing::SetHistory;
using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::AppendStoppingAt;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::RawHistory;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;

Dump Original() {
  Dump d;
  for (int i = 0; i < 10; ++i) {
    d[absl::StrFormat("task:%02d", i)] =
        i % 3 == 0 ? absl::StrFormat(R"({"id":%d,"schema_version":2})", i)
                   : absl::StrFormat(R"({"id":%d})", i);
    d[absl::StrFormat("note:%02d", i)] = std::string("n\0\xff", 3) + char('0' + i);
  }
  d["note:gone"] = "delete-me";
  d["note:empty"] = "";
  d["other"] = "o";
  return d;
}

// v1 -> v2: task: JSON adds "a"; note: appends "+" (deletes "delete-me").
// v2 -> v3: task: JSON adds "b"; note: appends "#".
void RegisterChain(MigrationRegistry* r) {
  ASSERT_THAT(r->Register(std::make_unique<AddField>(1, "task:", "a", 1)),
              IsOk());
  ASSERT_THAT(r->Register(std::make_unique<FuncMigration>(
                  1, "notes_v2", "note:",
                  [](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (v == "delete-me") return ItemResult::Delete();
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  ASSERT_THAT(r->Register(std::make_unique<AddField>(2, "task:", "b", 2)),
              IsOk());
  ASSERT_THAT(r->Register(Append(2, "note:", "#")), IsOk());
}

TEST(RollbackTest, RestoresEveryByteToVersionOne) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump original = Original();
  db->Put(original);
  MigrationRegistry r;
  RegisterChain(&r);
  auto m = MakeMigrator(db->db(), &r, SmallBatches(3, 2));
  ASSERT_THAT(m->Migrate(), IsOk());
  ASSERT_EQ(db->DumpUser().count("note:gone"), 0u);
  ASSERT_NE(db->DumpUser(), original);

  auto report = m->Rollback(1);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->to_version, 1);
  ASSERT_EQ(report->steps.size(), 2u);
  EXPECT_EQ(report->steps[0].from, 2);  // Newest step first.
  EXPECT_EQ(report->steps[1].from, 1);

  const Dump all = db->DumpAll();
  Dump expected = original;
  expected["_schema_version"] = "1";
  ASSERT_EQ(all.count("_migration_history"), 1u);
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);  // Backups gone.
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].status, StepStatus::kRolledBack);
  EXPECT_EQ((*h)[1].status, StepStatus::kRolledBack);
  auto backups = m->ListBackups();
  ASSERT_THAT(backups, IsOk());
  EXPECT_TRUE(backups->empty());
}

TEST(RollbackTest, RollsBackToAnIntermediateVersion) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Original());
  MigrationRegistry r;
  RegisterChain(&r);
  auto m = MakeMigrator(db->db(), &r, SmallBatches(4));
  ASSERT_THAT(m->Migrate(2), IsOk());
  const Dump at2 = db->DumpAll();
  ASSERT_THAT(m->Migrate(), IsOk());
  ASSERT_THAT(m->Rollback(2), IsOk());
  Dump all = db->DumpAll();
  Dump expected = at2;
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[1].status, StepStatus::kRolledBack);
}

TEST(RollbackTest, MigratingAgainAfterRollbackReproducesTheSameBytes) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Original());
  MigrationRegistry r;
  RegisterChain(&r);
  auto m = MakeMigrator(db->db(), &r, SmallBatches(3));
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump migrated = db->DumpUser();
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), Original());
  ASSERT_THAT(m->Migrate(), IsOk());
  EXPECT_EQ(db->DumpUser(), migrated)
      << DescribeDiff(migrated, db->DumpUser());
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[2].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[3].status, StepStatus::kSuccess);
  // And that run can be rolled back too.
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), Original());
}

TEST(RollbackTest, RefusedWhenAStepRanWithoutBackup) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Original());
  MigrationRegistry r;
  RegisterChain(&r);
  ASSERT_THAT(MakeMigrator(db->db(), &r)->Migrate(2), IsOk());
  MigratorOptions no_backup;
  no_backup.backup = false;
  auto m = MakeMigrator(db->db(), &r, no_backup);
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump before = db->DumpAll();
  auto s = m->Rollback(1);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("ran without backups"));
  EXPECT_THAT(m->Rollback(2), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db->DumpAll(), before) << DescribeDiff(before, db->DumpAll());
}

TEST(RollbackTest, RefusedWhenItsBackupWasDeleted) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Original());
  MigrationRegistry r;
  RegisterChain(&r);
  auto m = MakeMigrator(db->db(), &r);
  ASSERT_THAT(m->Migrate(), IsOk());
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_THAT(m->DeleteBackup(*(*h)[0].backup_id), IsOk());
  const Dump before = db->DumpAll();
  auto s = m->Rollback(1);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("deleted"));
  EXPECT_EQ(db->DumpAll(), before) << DescribeDiff(before, db->DumpAll());
  // The newer step still has its backup.
  ASSERT_THAT(m->Rollback(2), IsOk());
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "2");
}

TEST(RollbackTest, RefusedForAStampedDatabaseWithoutHistory) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", R"({"id":1})"}, {"_schema_version", "3"}});
  MigrationRegistry r;
  RegisterChain(&r);
  auto m = MakeMigrator(db->db(), &r);
  const Dump before = db->DumpAll();
  EXPECT_THAT(m->Rollback(1), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(m->Rollback(3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(m->Rollback(4), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(RollbackTest, UndoesAStepLeftInFlightByAStop) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump original = Original();
  db->Put(original);
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "note:", "*")), IsOk());
  ASSERT_THAT(r.Register(AppendStoppingAt(1, "task:", "+", "task:03", &stop)),
              IsOk());
  MigratorOptions o = SmallBatches(2);
  o.stop_requested = &stop;
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kCancelled));
  ASSERT_NE(db->DumpUser(), original);
  stop = false;
  auto m2 = MakeMigrator(db->db(), &r);
  auto report = m2->Rollback(1);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->resumed);
  const Dump all = db->DumpAll();
  Dump expected = original;
  CopyHistory(all, &expected);
  // The database had no version before: rolling back the first step
  // records the baseline.
  ASSERT_EQ(all.count("_schema_version"), 1u);
  EXPECT_EQ(all.at("_schema_version"), "1");
  expected["_schema_version"] = "1";
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);
  nlohmann::json h = RawHistory(all);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["status"], "rolled_back");
}

TEST(RollbackTest, StoppedRollbackResumesAndFinishesExactly) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump original = Original();
  db->Put(original);
  MigrationRegistry r;
  RegisterChain(&r);
  ASSERT_THAT(MakeMigrator(db->db(), &r, SmallBatches(2))->Migrate(), IsOk());
  std::atomic<bool> stop{false};
  MigratorOptions o = SmallBatches(2);
  o.stop_requested = &stop;
  int restore_batches = 0;
  o.on_progress = [&](const Progress& p) {
    if (p.phase == Progress::Phase::kRollingBack && ++restore_batches == 3) {
      stop = true;
    }
  };
  auto m = MakeMigrator(db->db(), &r, o);
  EXPECT_THAT(m->Rollback(1), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(db->DumpAll().count("_migration_progress"), 1u);
  stop = false;
  ASSERT_THAT(m->Rollback(1), IsOk());
  const Dump all = db->DumpAll();
  Dump expected = original;
  expected["_schema_version"] = "1";
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);
}

TEST(RollbackTest, BringsBackDeletedRecords) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "a"}, {"task:2", "delete-me"}, {"task:3", "delete-me"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "drop", "task:",
                  [](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (v == "delete-me") return ItemResult::Delete();
                    return ItemResult::Keep();
                  })),
              IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(1));
  ASSERT_THAT(m->Migrate(), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "a"}}));
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ((*h)[0].items_migrated, 2u);
  EXPECT_EQ((*h)[0].items_skipped, 1u);
  const Dump all = db->DumpAll();
  const std::string id = *(*h)[0].backup_id;
  EXPECT_EQ(WithPrefix(all, id + ":"),
            (Dump{{id + ":task:2", "delete-me"}, {id + ":task:3", "delete-me"}}));
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "a"},
                                  {"task:2", "delete-me"},
                                  {"task:3", "delete-me"}}));
}

}  // namespace
}  // namespace rocksmigrate
