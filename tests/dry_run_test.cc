// Dry run: counts per step, the first failures, a simulation of each step
// on the output of the one before, and not one byte written.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// v2 -> v3 on "task:": requires the "a" that v1 -> v2 adds.
class RequiresA : public JsonMigration {
 public:
  RequiresA() : JsonMigration(2, 3, "requires_a", "task:") {}
  absl::Status Transform(std::string_view, Json& r) const override {
    if (!r.contains("a")) return absl::InvalidArgumentError("no field a");
    r["b"] = r["a"];
    return absl::OkStatus();
  }
};

TEST(DryRunTest, CountsEachStepAndWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 10; ++i) {
    records[absl::StrFormat("task:%02d", i)] =
        i < 3 ? absl::StrFormat(R"({"id":%d,"schema_version":2,"a":0})", i)
              : absl::StrFormat(R"({"id":%d})", i);
  }
  records["note:1"] = "keep";
  records["note:2"] = "delete-me";
  records["note:3"] = "delete-me";
  records["other"] = "x";
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "notes", "note:",
                  [](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (v == "delete-me") return ItemResult::Delete();
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RequiresA>()), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r, SmallBatches(3, 2));
  auto report = m->DryRun();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(db->DumpAll(), before);
  EXPECT_EQ(report->from_version, 1);
  EXPECT_EQ(report->to_version, 3);
  EXPECT_EQ(report->records_scanned, 13u);
  EXPECT_FALSE(report->would_fail());
  ASSERT_EQ(report->steps.size(), 2u);
  const DryRunStep& s1 = report->steps[0];
  EXPECT_EQ(s1.from, 1);
  EXPECT_EQ(s1.to, 2);
  EXPECT_THAT(s1.migrations, ElementsAre("notes", "add_a_v2"));
  EXPECT_EQ(s1.items_to_migrate, 10u);  // 7 tasks + 3 notes.
  EXPECT_EQ(s1.items_to_delete, 2u);
  EXPECT_EQ(s1.items_skipped, 3u);
  EXPECT_EQ(s1.items_failed, 0u);
  EXPECT_GT(s1.bytes_to_write, 0u);
  const DryRunStep& s2 = report->steps[1];
  // Step 2 sees step 1's output: every task has "a" (none fails), and the
  // deleted notes are gone.
  EXPECT_EQ(s2.items_to_migrate, 10u);
  EXPECT_EQ(s2.items_failed, 0u);
  EXPECT_TRUE(s2.first_failures.empty());
  EXPECT_GE(report->estimated_duration, absl::ZeroDuration());

  // A real run agrees with the simulation.
  auto run = m->Migrate();
  ASSERT_THAT(run, IsOk());
  ASSERT_EQ(run->steps.size(), 2u);
  EXPECT_EQ(run->steps[0].items_migrated, s1.items_to_migrate);
  EXPECT_EQ(run->steps[0].items_skipped, s1.items_skipped);
  EXPECT_EQ(run->steps[1].items_migrated, s2.items_to_migrate);
}

TEST(DryRunTest, ReportsTheFirstFailuresInKeyOrderAndWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 30; ++i) {
    records[absl::StrFormat("task:%02d", i)] =
        i % 2 == 0 ? "not json" : absl::StrFormat(R"({"id":%d})", i);
  }
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "a", 1)),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RequiresA>()), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r, SmallBatches(4, 3));
  auto report = m->DryRun();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(db->DumpAll(), before);
  EXPECT_TRUE(report->would_fail());
  const DryRunStep& s1 = report->steps[0];
  EXPECT_EQ(s1.items_failed, 15u);
  EXPECT_EQ(s1.items_to_migrate, 15u);
  ASSERT_EQ(s1.first_failures.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s1.first_failures[i].key, absl::StrFormat("task:%02d", 2 * i));
    EXPECT_THAT(s1.first_failures[i].message, HasSubstr("not valid JSON"));
  }
  // A record that failed in step 1 is not carried into step 2.
  EXPECT_EQ(report->steps[1].items_failed, 0u);
  EXPECT_EQ(report->steps[1].items_to_migrate, 15u);
}

TEST(DryRunTest, FailureOnlyInALaterStepIsFound) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", R"({"id":1})"}, {"task:2", R"({"id":2})"}});
  MigrationRegistry r;
  // Step 1 does not add "a" to task:2, so step 2 fails there.
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "add_a_to_1", "task:",
                  [](std::string_view k, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (k == "task:1") {
                      return ItemResult::Write(
                          R"({"id":1,"a":5,"schema_version":2})");
                    }
                    return ItemResult::Write(R"({"id":2,"schema_version":2})");
                  })),
              IsOk());
  ASSERT_THAT(r.Register(std::make_unique<RequiresA>()), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->DryRun();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(db->DumpAll(), before);
  EXPECT_TRUE(report->would_fail());
  EXPECT_EQ(report->steps[0].items_failed, 0u);
  EXPECT_EQ(report->steps[1].items_failed, 1u);
  ASSERT_EQ(report->steps[1].first_failures.size(), 1u);
  EXPECT_EQ(report->steps[1].first_failures[0].key, "task:2");
  // Dry run to v2 only: nothing fails.
  auto to2 = m->DryRun(2);
  ASSERT_THAT(to2, IsOk());
  EXPECT_FALSE(to2->would_fail());
  EXPECT_EQ(to2->steps.size(), 1u);
}

TEST(DryRunTest, UpToDateAndEmptyDatabasesHaveNoSteps) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  auto empty = m->DryRun();
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->steps.empty());
  EXPECT_TRUE(db->DumpAll().empty());
  db->Put({{"task:1", "a"}, {"_schema_version", "2"}});
  auto current = m->DryRun();
  ASSERT_THAT(current, IsOk());
  EXPECT_TRUE(current->steps.empty());
  EXPECT_THAT(m->DryRun(1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), (Dump{{"task:1", "a"}, {"_schema_version", "2"}}));
}

}  // namespace
}  // namespace rocksmigrate
