// Item errors: a migration that fails or throws on one record stops the
// step, every record of the step gets its bytes back, the history says
// `failed` and names the key, the step's backup is deleted.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

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

using ::rocksmigrate::testing::CopyHistory;
using ::rocksmigrate::testing::EraseHistory;
using ::rocksmigrate::testing::SetHistory;
using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::AppendFailingAt;
using ::rocksmigrate::testing::BackupKey;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::ManualClock;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;

// No key of `dump` belongs to backup `id` (manifest or records).
void ExpectBackupGone(const Dump& dump, const std::string& id) {
  EXPECT_EQ(dump.count(id), 0u) << "manifest " << id << " still there";
  EXPECT_TRUE(WithPrefix(dump, id + ":").empty())
      << "records of " << id << " still there";
}

// After a successful step 1 (task: and note:), step 2 fails at the record
// `bad` of "task:"; the database must be exactly as step 1 left it.
class FailingStepTest
    : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(FailingStepTest, RestoresEveryByteOfTheFailedStep) {
  const auto [bad, threads] = GetParam();
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 10; ++i) {
    records[absl::StrFormat("task:%02d", i)] = absl::StrCat("t", i);
    records[absl::StrFormat("note:%02d", i)] = absl::StrCat("n", i);
  }
  records["other"] = "o";
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(1, "note:", "*")), IsOk());
  ASSERT_THAT(r.Register(AppendFailingAt(2, "task:", "#", bad)), IsOk());
  ASSERT_THAT(r.Register(Append(2, "note:", "%")), IsOk());
  ManualClock clock;
  MigratorOptions o = SmallBatches(3, threads);
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(2), IsOk());
  const Dump after_step1 = db->DumpAll();

  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr(bad));

  const Dump all = db->DumpAll();
  Dump expected = after_step1;
  EraseHistory(&expected);
  Dump actual = all;
  EraseHistory(&actual);
  EXPECT_EQ(actual, expected) << DescribeDiff(expected, actual);
  EXPECT_EQ(all.at("_schema_version"), "2");
  EXPECT_EQ(all.count("_migration_progress"), 0u);

  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[1].status, StepStatus::kFailed);
  EXPECT_EQ((*h)[1].from, 2);
  EXPECT_EQ((*h)[1].to, 3);
  ASSERT_TRUE((*h)[1].error.has_value());
  EXPECT_THAT(*(*h)[1].error, HasSubstr(bad));
  EXPECT_THAT(*(*h)[1].error, HasSubstr("this record cannot be migrated"));
  ASSERT_TRUE((*h)[1].backup_id.has_value());
  ExpectBackupGone(all, *(*h)[1].backup_id);
  // Step 1's backup is untouched.
  EXPECT_EQ(all.count(*(*h)[0].backup_id), 1u);
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->current_version, 2);
  EXPECT_FALSE(state->in_flight.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    FirstMiddleLast, FailingStepTest,
    ::testing::Combine(::testing::Values("task:00", "task:05", "task:09"),
                       ::testing::Values(1, 3)));

TEST(MigratorFailureTest, FailureInTheFirstStepLeavesNoVersion) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 8; ++i) records[absl::StrFormat("task:%02d", i)] = "v";
  db->Put(records);
  const Dump before = db->DumpAll();
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendFailingAt(1, "task:", "+", "task:07")), IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(2));
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  const Dump all = db->DumpAll();
  Dump expected = before;
  ASSERT_EQ(all.count("_migration_history"), 1u);
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);
  // Running again fails again the same way, and restores again.
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(db->DumpUser(), records);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].status, StepStatus::kFailed);
  EXPECT_EQ((*h)[1].status, StepStatus::kFailed);
}

std::unique_ptr<Migration> Thrower(bool standard) {
  return std::make_unique<FuncMigration>(
      1, "thrower", "task:",
      [standard](std::string_view key, std::string_view v)
          -> absl::StatusOr<ItemResult> {
        if (key == "task:3") {
          if (standard) throw std::runtime_error("boom from the migration");
          throw 42;
        }
        return ItemResult::Write(std::string(v) + "+");
      });
}

class ThrowingMigrationTest : public ::testing::TestWithParam<bool> {};

TEST_P(ThrowingMigrationTest, ExceptionIsAnItemErrorAndTheStepIsRestored) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", "a"}, {"task:2", "b"}, {"task:3", "c"},
                        {"task:4", "d"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Thrower(GetParam())), IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(1, 2));
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("task:3"));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr(GetParam() ? "boom from the migration"
                                   : "non-standard exception"));
  EXPECT_EQ(db->DumpUser(), records);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].status, StepStatus::kFailed);
  ExpectBackupGone(db->DumpAll(), *(*h)[0].backup_id);
}

INSTANTIATE_TEST_SUITE_P(StdAndNonStd, ThrowingMigrationTest,
                         ::testing::Bool());

// JsonMigration: values it cannot take are item errors, and the step is
// restored byte for byte.
class BadJsonValueTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadJsonValueTest, IsAnItemErrorAndTheStepIsRestored) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", R"({"id":1})"},
                        {"task:2", R"({"id":2})"},
                        {"task:3", GetParam()},
                        {"task:4", R"({"id":4})"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)),
              IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(1));
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("task:3"));
  EXPECT_EQ(db->DumpUser(), records) << DescribeDiff(records, db->DumpUser());
  EXPECT_EQ(db->DumpAll().count("_schema_version"), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Values, BadJsonValueTest,
    ::testing::Values(std::string(), std::string("{not json"),
                      std::string("[1,2]"), std::string("\"a string\""),
                      std::string("{\"s\":\"\xc3\x28\"}", 10),
                      std::string("{\"id\":3}\x00", 9),
                      std::string(R"({"schema_version":"1"})"),
                      std::string(R"({"schema_version":-1})"),
                      std::string(R"({"schema_version":1.5})")));

TEST(MigratorFailureTest, TransformProducingInvalidUtf8IsAnItemError) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", R"({"id":1})"}, {"task:2", R"({"id":2})"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(
                  1, "task:", "bad", std::string("\xff\xfe", 2))),
              IsOk());
  auto m = MakeMigrator(db->db(), &r);
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(db->DumpUser(), records);
}

TEST(MigratorFailureTest, WithoutBackupsAnItemErrorStopsWhereItIs) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 9; ++i) records[absl::StrFormat("task:%02d", i)] = "v";
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendFailingAt(1, "task:", "+", "task:05")), IsOk());
  MigratorOptions o = SmallBatches(2);
  o.backup = false;
  auto m = MakeMigrator(db->db(), &r, o);
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("task:05"));
  // Batches [00,01] and [02,03] committed; [04,05] failed as a whole.
  Dump expected = records;
  for (int i = 0; i < 4; ++i) expected[absl::StrFormat("task:%02d", i)] += "+";
  EXPECT_EQ(db->DumpUser(), expected) << DescribeDiff(expected, db->DumpUser());
  const Dump all = db->DumpAll();
  EXPECT_TRUE(WithPrefix(all, "_backup_").empty());
  EXPECT_EQ(all.count("_migration_progress"), 1u);
  EXPECT_EQ(all.count("_schema_version"), 0u);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].status, StepStatus::kFailed);
  EXPECT_EQ((*h)[0].backup_id, std::nullopt);
  // It cannot be rolled back, and that writes nothing.
  EXPECT_THAT(m->Rollback(0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db->DumpAll(), all);
}

// Regression: a step whose prefix is not UTF-8 (here 0xFF 0xFF) made the
// cursor's JSON serialization throw nlohmann::type_error out of Migrate().
TEST(MigratorRegressionTest, BinaryPrefixDoesNotThrowWhenWritingTheCursor) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const std::string p("\xff\xff", 2);
  db->Put({{p + "1", "a"}, {p + "2", "b"}, {"x", "c"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, p, "+")), IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(1));
  absl::StatusOr<RunReport> report;
  ASSERT_NO_THROW(report = m->Migrate());
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{p + "1", "a+"}, {p + "2", "b+"}, {"x", "c"}}));
  auto backups = m->ListBackups();
  ASSERT_THAT(backups, IsOk());
  ASSERT_EQ(backups->size(), 1u);
  ASSERT_EQ((*backups)[0].prefixes.size(), 1u);
}

// Regression: an item error whose message holds bytes that are not UTF-8
// (a migration quoting the value) made writing the history throw after the
// restore, leaving a cursor that threw again on every later run.
TEST(MigratorRegressionTest, ItemErrorMessageThatIsNotUtf8IsRecorded) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", "ok"}, {"task:2", std::string("\xff\x00\xfe", 3)}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "quoting", "task:",
                  [](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (v != "ok") {
                      return absl::InvalidArgumentError(
                          absl::StrCat("bad value: ", std::string(v)));
                    }
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(1));
  absl::StatusOr<RunReport> report;
  ASSERT_NO_THROW(report = m->Migrate());
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(db->DumpUser(), records);
  const Dump all = db->DumpAll();
  EXPECT_EQ(all.count("_migration_progress"), 0u);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].status, StepStatus::kFailed);
  ASSERT_TRUE((*h)[0].error.has_value());
  EXPECT_THAT(*(*h)[0].error, HasSubstr("task:2"));
}

// Regression: nlohmann's parser stops at a NUL byte, so JsonMigration took
// `{"id":3}\0<more bytes>` for valid JSON and rewrote it without its tail,
// losing bytes silently.
TEST(MigratorRegressionTest, JsonValueWithNulByteAndTrailingBytesIsNotTruncated) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {
      {"task:1", R"({"id":1})"},
      {"task:2", std::string("{\"id\":2}\0{\"lost\":true}", 22)}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)),
              IsOk());
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("task:2"));
  EXPECT_EQ(db->DumpUser(), records) << DescribeDiff(records, db->DumpUser());
}

}  // namespace
}  // namespace rocksmigrate
