// Scenario 8: the clock goes backwards, and runs start in the same second
// (MigratorOptions::clock). No backup overwrites another, and rollback
// restores each step from its own backup.
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rocksmigrate/migrator.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::TempDir;

class ClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = MakeDataset(TestSeed(800));
    model_ = std::make_unique<Model>(v1_);
    CreateDb(dir_.Sub("db"), v1_);
    auto db = FaultDb::Open(dir_.Sub("db"));
    ASSERT_THAT(db, IsOk());
    db_ = std::move(*db);
    registry_ = MakeRegistry();
  }
  std::unique_ptr<Migrator> MakeMigrator() {
    MigratorOptions mo;
    mo.batch_items = 16;
    mo.clock = [this] { return now_; };
    auto m = Migrator::Create(db_->db(), registry_.get(), mo);
    EXPECT_THAT(m, IsOk());
    return std::move(*m);
  }
  std::vector<std::string> BackupIds() {
    auto list = MakeMigrator()->ListBackups();
    EXPECT_THAT(list, IsOk());
    std::vector<std::string> ids;
    for (const BackupInfo& b : *list) ids.push_back(b.id);
    return ids;
  }
  void ExpectAt(int v) {
    Dump all = db_->DumpAll();
    EXPECT_EQ(StoredVersion(all), v);
    EXPECT_FALSE(InFlight(all));
    EXPECT_EQ(CheckInvariant(all, *model_), "");
  }

  TempDir dir_;
  Dump v1_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<FaultDb> db_;
  std::unique_ptr<MigrationRegistry> registry_;
  absl::Time now_ = absl::FromUnixSeconds(1767225600);  // 2026-01-01.
};

TEST_F(ClockTest, StepsAndRunsInOneSecondGetDistinctBackups) {
  ASSERT_THAT(MakeMigrator()->Migrate(2), IsOk());
  ASSERT_THAT(MakeMigrator()->Migrate(), IsOk());  // Two more steps, same second.
  std::vector<std::string> ids = BackupIds();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
  ExpectAt(kNewest);  // Each backup holds its step's original bytes.
  ASSERT_THAT(MakeMigrator()->Rollback(1), IsOk());
  ExpectAt(1);
  EXPECT_EQ(UserRecords(db_->DumpAll()), v1_);
}

TEST_F(ClockTest, ClockGoingBackwardsNeverOverwritesABackup) {
  ASSERT_THAT(MakeMigrator()->Migrate(2), IsOk());        // at T
  now_ -= absl::Hours(1);
  ASSERT_THAT(MakeMigrator()->Migrate(3), IsOk());        // at T - 1h
  now_ += absl::Hours(1);
  ASSERT_THAT(MakeMigrator()->Migrate(4), IsOk());        // at T again
  std::vector<std::string> ids = BackupIds();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
  ExpectAt(kNewest);
  // Roll back one step, then go back up in the same second: the new
  // backup of step 3 -> 4 must not take the place of a live one.
  ASSERT_THAT(MakeMigrator()->Rollback(3), IsOk());
  ExpectAt(3);
  now_ -= absl::Hours(1);  // The second of step 2 -> 3's backup.
  ASSERT_THAT(MakeMigrator()->Migrate(), IsOk());
  ExpectAt(kNewest);
  ids = BackupIds();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
  // Rollback picks each step's own backup, newest step first.
  now_ -= absl::Hours(24);
  ASSERT_THAT(MakeMigrator()->Rollback(2), IsOk());
  ExpectAt(2);
  ASSERT_THAT(MakeMigrator()->Rollback(1), IsOk());
  ExpectAt(1);
  EXPECT_EQ(UserRecords(db_->DumpAll()), v1_);
}

TEST_F(ClockTest, ClockRunningBackwardsWithinOneRun) {
  // Every reading of the clock is a second earlier than the one before.
  MigratorOptions mo;
  mo.batch_items = 16;
  mo.clock = [this] {
    now_ -= absl::Seconds(1);
    return now_;
  };
  auto m = Migrator::Create(db_->db(), registry_.get(), mo);
  ASSERT_THAT(m, IsOk());
  auto r = (*m)->Migrate();
  ASSERT_THAT(r, IsOk());
  for (const HistoryEntry& e : r->steps) EXPECT_GE(e.duration_ms, 0);
  ExpectAt(kNewest);
  ASSERT_THAT((*m)->Rollback(1), IsOk());
  ExpectAt(1);
}

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
