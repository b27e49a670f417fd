// Planning: definition errors are reported by Register()/PlanPath() and by
// Migrate() before anything is written.
#include "rocksmigrate/registry.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/migrator.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::testing::HasSubstr;

// A migration from `from` to `to` (possibly not from + 1).
class RawMigration : public Migration {
 public:
  RawMigration(int from, int to, std::string prefix, std::string name = "m")
      : from_(from), to_(to), prefix_(std::move(prefix)), name_(std::move(name)) {}
  int from() const override { return from_; }
  int to() const override { return to_; }
  std::string name() const override { return name_; }
  std::string prefix() const override { return prefix_; }
  absl::StatusOr<ItemResult> Migrate(std::string_view,
                                     std::string_view v) const override {
    return ItemResult::Write(std::string(v) + "!");
  }

 private:
  int from_, to_;
  std::string prefix_, name_;
};

TEST(RegistryTest, RejectsToNotFromPlusOne) {
  MigrationRegistry r;
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 3, "task:")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(2, 2, "task:")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(3, 2, "task:")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(-1, 0, "task:")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(r.empty());
}

TEST(RegistryTest, RejectsReservedPrefix) {
  MigrationRegistry r;
  absl::Status s = r.Register(std::make_unique<RawMigration>(1, 2, "_task:"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("reserved"));
  EXPECT_TRUE(r.empty());
}

TEST(RegistryTest, RejectsDuplicateStepAndPrefix) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:", "a")),
              IsOk());
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:", "b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The same prefix in another step, and another prefix in the same step,
  // are fine.
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(2, 3, "task:", "c")),
              IsOk());
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "note:", "d")),
              IsOk());
  ASSERT_NE(r.FindStep(1), nullptr);
  EXPECT_EQ(r.FindStep(1)->migrations.size(), 2u);
}

TEST(RegistryTest, RejectsOverlappingPrefixesInOneStep) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:", "a")),
              IsOk());
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:x", "b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task", "c")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "", "d")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // "tasks:" does not overlap "task:".
  EXPECT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "tasks:", "e")),
              IsOk());
}

TEST(RegistryTest, PlansStepsInOrderWithMigrationsSortedByPrefix) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(2, 3, "task:", "t3")),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:", "t2")),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "note:", "n2")),
              IsOk());
  EXPECT_EQ(r.oldest_version(), 1);
  EXPECT_EQ(r.newest_version(), 3);
  auto path = r.PlanPath(1, 3);
  ASSERT_THAT(path, IsOk());
  ASSERT_EQ(path->size(), 2u);
  EXPECT_EQ((*path)[0].Describe(), "v1 -> v2");
  ASSERT_EQ((*path)[0].migrations.size(), 2u);
  EXPECT_EQ((*path)[0].migrations[0]->name(), "n2");
  EXPECT_EQ((*path)[0].migrations[1]->name(), "t2");
  EXPECT_EQ((*path)[1].Describe(), "v2 -> v3");
  EXPECT_THAT(r.prefixes(), ::testing::ElementsAre("note:", "task:"));
}

TEST(RegistryTest, ReturnsInvalidArgumentWhenChainHasGap) {
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(1, 2, "task:")), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RawMigration>(3, 4, "task:")), IsOk());
  auto path = r.PlanPath(1, 4);
  EXPECT_THAT(path, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(path.status().message()), HasSubstr("v2 -> v3"));
  EXPECT_THAT(r.PlanPath(0, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.PlanPath(2, 2), StatusIs(absl::StatusCode::kInvalidArgument));
}

Dump SampleRecords() {
  return {{"task:1", "one"}, {"task:2", "two"}, {"note:1", "n"}};
}

TEST(PlanningTest, GapWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(SampleRecords());
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(3, "task:", "#")), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("v2 -> v3"));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(PlanningTest, ChainNotStartingAtStoredVersionWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(SampleRecords());
  db->Put("_schema_version", "1");
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());  // Only 2 -> 3.
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(PlanningTest, ChainNotStartingAtBaselineWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(SampleRecords());  // No _schema_version: baseline 1.
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(m->DryRun(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(PlanningTest, TargetBeyondNewestIsInvalidArgument) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(SampleRecords());
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  EXPECT_THAT(m->Migrate(5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(PlanningTest, CreateRejectsZeroBatchBounds) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  MigrationRegistry r;
  MigratorOptions o;
  o.batch_items = 0;
  EXPECT_THAT(Migrator::Create(db->db(), &r, o),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.batch_items = 1;
  o.batch_bytes = 0;
  EXPECT_THAT(Migrator::Create(db->db(), &r, o),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Migrator::Create(nullptr, &r, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rocksmigrate
