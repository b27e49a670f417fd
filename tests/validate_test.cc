// Validate: records under migrated prefixes parse and carry the version of
// the newest applied step that migrated their prefix.
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

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDb::Open(dir_.Sub("db"));
    for (int i = 0; i < 20; ++i) {
      db_->Put(absl::StrFormat("task:%02d", i), absl::StrFormat(R"({"id":%d})", i));
      db_->Put(absl::StrFormat("note:%02d", i), R"({"n":1})");
    }
    db_->Put("bin:1", std::string("\xff\x00", 2));  // C++ prefix: not checked.
    ASSERT_THAT(r_.Register(std::make_unique<AddField>(1, "task:", "a", 1)),
                IsOk());
    ASSERT_THAT(r_.Register(std::make_unique<AddField>(1, "note:", "a", 1)),
                IsOk());
    ASSERT_THAT(r_.Register(Append(1, "bin:", "+")), IsOk());
    ASSERT_THAT(r_.Register(std::make_unique<AddField>(2, "task:", "b", 2)),
                IsOk());
    m_ = MakeMigrator(db_->db(), &r_);
    ASSERT_THAT(m_->Migrate(), IsOk());
  }

  TempDir dir_;
  std::unique_ptr<TestDb> db_;
  MigrationRegistry r_;
  std::unique_ptr<Migrator> m_;
};

TEST_F(ValidateTest, IsCleanAfterAMigration) {
  const Dump before = db_->DumpAll();
  auto report = m_->Validate();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->problem_count, 0u);
  EXPECT_EQ(report->records_checked, 40u);  // "note:" stays at 2, "task:" 3.
  EXPECT_EQ(db_->DumpAll(), before);
}

TEST_F(ValidateTest, ReportsWrongVersionsAndBadValues) {
  db_->Put("task:03", R"({"id":3,"schema_version":2})");  // Should be 3.
  db_->Put("note:04", R"({"n":1,"schema_version":3})");   // Should be 2.
  db_->Put("task:05", "{broken");
  db_->Put("task:06", R"({"id":6})");  // No version.
  db_->Put("task:07", "[1]");
  db_->Put("task:08", std::string("{\"schema_version\":3}\0x", 22));
  const Dump before = db_->DumpAll();
  auto report = m_->Validate();
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->ok());
  EXPECT_EQ(report->problem_count, 5u);
  std::vector<std::string> keys;
  for (const auto& p : report->problems) {
    keys.push_back(p.key);
    EXPECT_TRUE(p.file.empty());
    EXPECT_FALSE(p.message.empty());
  }
  EXPECT_THAT(keys, UnorderedElementsAre("task:03", "task:05", "task:06",
                                         "task:07", "task:08"));
  for (const auto& p : report->problems) {
    if (p.key == "task:03") {
      EXPECT_THAT(p.message, HasSubstr("expected 3"));
    } else if (p.key == "task:05") {
      EXPECT_THAT(p.message, HasSubstr("not valid JSON"));
    }
  }
  // A record above its prefix's version is what migrate skips: reported
  // apart, not a problem.
  EXPECT_EQ(report->ahead_count, 1u);
  ASSERT_EQ(report->ahead.size(), 1u);
  EXPECT_EQ(report->ahead[0].key, "note:04");
  EXPECT_THAT(report->ahead[0].message, HasSubstr("schema_version is 3, above 2"));
  EXPECT_EQ(db_->DumpAll(), before);
}

}  // namespace
}  // namespace rocksmigrate
