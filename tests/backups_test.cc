// Backups: ids (one per step, `_N` in one second, a clock going backwards
// never overwrites), list/delete/prune, and a dedicated column family.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

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
using ::rocksmigrate::testing::AppendFailingAt;
using ::rocksmigrate::testing::AppendStoppingAt;
using ::rocksmigrate::testing::BackupKey;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::ManualClock;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::ElementsAre;

const Dump kRecords = {{"task:1", "a"}, {"task:2", "b"}, {"note:1", "n"}};

// `steps` steps of Append(v, "task:", "<v>") from v1.
void RegisterSteps(MigrationRegistry* r, int steps) {
  for (int v = 1; v <= steps; ++v) {
    ASSERT_THAT(r->Register(Append(v, "task:", std::to_string(v))), IsOk());
  }
}

std::vector<std::string> Ids(const std::vector<BackupInfo>& list) {
  std::vector<std::string> out;
  for (const auto& b : list) out.push_back(b.id);
  return out;
}

TEST(BackupsTest, StepsInTheSameSecondGetSuffixedIds) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterSteps(&r, 3);
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(2), IsOk());  // Separate runs, same second.
  ASSERT_THAT(m->Migrate(3), IsOk());
  ASSERT_THAT(m->Migrate(4), IsOk());
  const std::string x = "_backup_20261127_050102";
  auto list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(Ids(*list), ElementsAre(x, x + "_2", x + "_3"));
  const Dump all = db->DumpAll();
  EXPECT_EQ(WithPrefix(all, x + ":"),
            (Dump{{x + ":task:1", "a"}, {x + ":task:2", "b"}}));
  EXPECT_EQ(WithPrefix(all, x + "_2:"),
            (Dump{{x + "_2:task:1", "a1"}, {x + "_2:task:2", "b1"}}));
  EXPECT_EQ(WithPrefix(all, x + "_3:"),
            (Dump{{x + "_3:task:1", "a12"}, {x + "_3:task:2", "b12"}}));
  for (const auto& b : *list) {
    EXPECT_TRUE(b.complete);
    EXPECT_EQ(b.item_count, 2u);
    EXPECT_EQ(b.to, b.from + 1);
  }
}

TEST(BackupsTest, ClockGoingBackwardsNeverOverwritesABackup) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterSteps(&r, 4);
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  clock.Set(absl::CivilSecond(2026, 11, 27, 12, 0, 0));
  ASSERT_THAT(m->Migrate(2), IsOk());
  clock.Set(absl::CivilSecond(2026, 11, 27, 11, 0, 0));  // An hour back.
  ASSERT_THAT(m->Migrate(3), IsOk());
  clock.Set(absl::CivilSecond(2026, 11, 27, 12, 0, 0));  // The first second.
  ASSERT_THAT(m->Migrate(4), IsOk());
  clock.Set(absl::CivilSecond(2026, 11, 27, 11, 0, 0));
  ASSERT_THAT(m->Migrate(5), IsOk());
  const std::string a = "_backup_20261127_120000", b = "_backup_20261127_110000";
  const Dump all = db->DumpAll();
  EXPECT_EQ(WithPrefix(all, a + ":"),
            (Dump{{a + ":task:1", "a"}, {a + ":task:2", "b"}}));
  EXPECT_EQ(WithPrefix(all, b + ":"),
            (Dump{{b + ":task:1", "a1"}, {b + ":task:2", "b1"}}));
  EXPECT_EQ(WithPrefix(all, a + "_2:"),
            (Dump{{a + "_2:task:1", "a12"}, {a + "_2:task:2", "b12"}}));
  EXPECT_EQ(WithPrefix(all, b + "_2:"),
            (Dump{{b + "_2:task:1", "a123"}, {b + "_2:task:2", "b123"}}));
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].backup_id, std::optional<std::string>(a));
  EXPECT_EQ((*h)[1].backup_id, std::optional<std::string>(b));
  EXPECT_EQ((*h)[2].backup_id, std::optional<std::string>(a + "_2"));
  EXPECT_EQ((*h)[3].backup_id, std::optional<std::string>(b + "_2"));
  // And every step can still be rolled back from its own backup.
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), kRecords);
}

TEST(BackupsTest, DeleteRemovesExactlyOneBackup) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterSteps(&r, 2);
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), IsOk());
  const std::string x = "_backup_20261127_050102";
  const Dump before = db->DumpAll();
  ASSERT_THAT(m->DeleteBackup(x), IsOk());
  Dump expected = before;
  for (auto it = expected.begin(); it != expected.end();) {
    it = it->first == x || it->first.rfind(x + ":", 0) == 0 ? expected.erase(it)
                                                             : std::next(it);
  }
  EXPECT_EQ(db->DumpAll(), expected) << DescribeDiff(expected, db->DumpAll());
  auto list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(Ids(*list), ElementsAre(x + "_2"));
  EXPECT_THAT(m->DeleteBackup(x), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(m->DeleteBackup("task:1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(m->DeleteBackup("_backup_2026"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), expected);
}

TEST(BackupsTest, DeleteRefusesTheBackupOfTheRunInFlight) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 10; ++i) records[absl::StrFormat("task:%02d", i)] = "v";
  db->Put(records);
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendStoppingAt(1, "task:", "1", "task:01", &stop)),
              IsOk());
  MigratorOptions o = SmallBatches(2);
  o.stop_requested = &stop;
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kCancelled));
  auto list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE((*list)[0].complete);
  const Dump before = db->DumpAll();
  EXPECT_THAT(m->DeleteBackup((*list)[0].id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto pruned = m->PruneBackups(0);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_TRUE(pruned->empty());
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(BackupsTest, PruneKeepsTheNewest) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterSteps(&r, 3);
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  for (int v = 2; v <= 4; ++v) {
    clock.Set(absl::CivilSecond(2026, 1, v, 0, 0, 0));
    ASSERT_THAT(m->Migrate(v), IsOk());
  }
  const Dump before = db->DumpAll();
  auto pruned = m->PruneBackups(1);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_THAT(*pruned, ElementsAre("_backup_20260102_000000",
                                   "_backup_20260103_000000"));
  Dump expected;
  for (const auto& [k, v] : before) {
    if (k.rfind("_backup_20260102_000000", 0) == 0 ||
        k.rfind("_backup_20260103_000000", 0) == 0) {
      continue;
    }
    expected[k] = v;
  }
  EXPECT_EQ(db->DumpAll(), expected) << DescribeDiff(expected, db->DumpAll());
  auto again = m->PruneBackups(1);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->empty());
}

// Regression: backups created in the same millisecond were ordered by id
// as text, so "_10" came before "_2" and prune deleted the newest.
TEST(BackupsRegressionTest, PruneKeepsTheNewestOfTenBackupsInOneSecond) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterSteps(&r, 11);
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  for (int v = 2; v <= 12; ++v) ASSERT_THAT(m->Migrate(v), IsOk());
  const std::string x = "_backup_20261127_050102";
  auto list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 11u);
  EXPECT_EQ(list->front().id, x);
  EXPECT_EQ(list->back().id, x + "_11");
  auto pruned = m->PruneBackups(2);
  ASSERT_THAT(pruned, IsOk());
  ASSERT_EQ(pruned->size(), 9u);
  list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(Ids(*list), ElementsAre(x + "_10", x + "_11"));
  // The two newest steps can still be rolled back.
  ASSERT_THAT(m->Rollback(10), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "a123456789"},
                                  {"task:2", "b123456789"},
                                  {"note:1", "n"}}));
}

// The same guarantees with backups in their own column family: the default
// column family never holds a backup key.
class BackupColumnFamilyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDb::Open(dir_.Sub("db"), /*backup_cf=*/true);
    ASSERT_NE(db_->backup_cf(), nullptr);
    db_->Put(records_);
  }
  MigratorOptions Options() {
    MigratorOptions o = SmallBatches(2);
    o.clock = clock_.fn();
    o.backup_column_family = db_->backup_cf();
    return o;
  }
  Dump Backups() { return db_->DumpAll(db_->backup_cf()); }

  TempDir dir_;
  std::unique_ptr<TestDb> db_;
  ManualClock clock_;
  const Dump records_ = {{"task:1", "a"}, {"task:2", "b"}, {"task:3", "c"},
                         {"note:1", "n"}};
  const std::string x_ = "_backup_20261127_050102";
};

TEST_F(BackupColumnFamilyTest, MigrationBacksUpIntoTheColumnFamily) {
  MigrationRegistry r;
  RegisterSteps(&r, 2);
  auto m = MakeMigrator(db_->db(), &r, Options());
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump all = db_->DumpAll();
  EXPECT_TRUE(WithPrefix(all, "_backup_").empty());
  Dump user_expected = {{"task:1", "a12"}, {"task:2", "b12"}, {"task:3", "c12"},
                        {"note:1", "n"}};
  EXPECT_EQ(db_->DumpUser(), user_expected);
  const Dump backups = Backups();
  Dump expected = {{x_ + ":task:1", "a"},    {x_ + ":task:2", "b"},
                   {x_ + ":task:3", "c"},    {x_ + "_2:task:1", "a1"},
                   {x_ + "_2:task:2", "b1"}, {x_ + "_2:task:3", "c1"}};
  ASSERT_EQ(backups.count(x_), 1u);
  ASSERT_EQ(backups.count(x_ + "_2"), 1u);
  expected[x_] = backups.at(x_);
  expected[x_ + "_2"] = backups.at(x_ + "_2");
  EXPECT_EQ(backups, expected) << DescribeDiff(expected, backups);
  auto list = m->ListBackups();
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(Ids(*list), ElementsAre(x_, x_ + "_2"));
}

TEST_F(BackupColumnFamilyTest, RollbackRestoresFromTheColumnFamily) {
  MigrationRegistry r;
  RegisterSteps(&r, 2);
  auto m = MakeMigrator(db_->db(), &r, Options());
  ASSERT_THAT(m->Migrate(), IsOk());
  ASSERT_THAT(m->Rollback(1), IsOk());
  const Dump all = db_->DumpAll();
  Dump expected = records_;
  expected["_schema_version"] = "1";
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);
  EXPECT_TRUE(Backups().empty());
}

TEST_F(BackupColumnFamilyTest, ItemErrorRestoresFromTheColumnFamily) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendFailingAt(1, "task:", "+", "task:3")), IsOk());
  auto m = MakeMigrator(db_->db(), &r, Options());
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(db_->DumpUser(), records_);
  EXPECT_TRUE(Backups().empty());
  EXPECT_TRUE(WithPrefix(db_->DumpAll(), "_backup_").empty());
}

TEST_F(BackupColumnFamilyTest, DeleteAndPruneWorkInTheColumnFamily) {
  MigrationRegistry r;
  RegisterSteps(&r, 3);
  auto m = MakeMigrator(db_->db(), &r, Options());
  ASSERT_THAT(m->Migrate(), IsOk());
  ASSERT_THAT(m->DeleteBackup(x_ + "_2"), IsOk());
  auto pruned = m->PruneBackups(1);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_THAT(*pruned, ElementsAre(x_));
  const Dump backups = Backups();
  Dump expected = {{x_ + "_3:task:1", "a12"},
                   {x_ + "_3:task:2", "b12"},
                   {x_ + "_3:task:3", "c12"}};
  ASSERT_EQ(backups.count(x_ + "_3"), 1u);
  expected[x_ + "_3"] = backups.at(x_ + "_3");
  EXPECT_EQ(backups, expected) << DescribeDiff(expected, backups);
}

}  // namespace
}  // namespace rocksmigrate
