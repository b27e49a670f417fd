// JsonMigration on single records: the per-record version rule (SPEC §8.2),
// the stamp, member order, and what is an item error.
#include "rocksmigrate/json_migration.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/record_version.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::testing::HasSubstr;

// The new bytes of `value` after AddField(2 -> 3, "x" = 1), "KEEP", or
// "ERROR <code>".
std::string Outcome(const std::string& value) {
  AddField m(2, "task:", "x", 1);
  absl::StatusOr<ItemResult> r = m.Migrate("task:1", value);
  if (!r.ok()) {
    return "ERROR " + absl::StatusCodeToString(r.status().code());
  }
  switch (r->kind()) {
    case ItemResult::Kind::kKeep:
      return "KEEP";
    case ItemResult::Kind::kDelete:
      return "DELETE";
    case ItemResult::Kind::kWrite:
      return r->value();
  }
  return "";
}

TEST(JsonMigrationTest, StampsTheVersionAndKeepsMemberOrder) {
  EXPECT_EQ(Outcome(R"({"z":1,"schema_version":2,"a":[1,2],"m":{"q":null}})"), 
                  R"({"z":1,"schema_version":3,"a":[1,2],"m":{"q":null},"x":1})");
}

TEST(JsonMigrationTest, RecordWithoutVersionIsMigrated) {
  EXPECT_EQ(Outcome(R"({"b":true})"), R"({"b":true,"x":1,"schema_version":3})");
}

TEST(JsonMigrationTest, OlderVersionIsMigrated) {
  EXPECT_EQ(Outcome(R"({"schema_version":0})"), R"({"schema_version":3,"x":1})");
}

TEST(JsonMigrationTest, RecordAtOrAboveTargetIsKept) {
  EXPECT_EQ(Outcome(R"({"schema_version":3})"), "KEEP");
  EXPECT_EQ(Outcome(R"({"schema_version":99})"), "KEEP");
}

TEST(JsonMigrationTest, BadValuesAreItemErrors) {
  for (const std::string& v :
       {std::string(), std::string("   "), std::string("nul"),
        std::string("[]"), std::string("1"), std::string("null"),
        std::string(R"({"a":1} trailing)"), std::string("{\"a\":\"\xff\"}"),
        std::string("{\"a\":1}\0{}", 9), std::string(R"({"schema_version":"2"})"),
        std::string(R"({"schema_version":-3})"),
        std::string(R"({"schema_version":2.5})"),
        std::string(R"({"schema_version":null})"),
        std::string(R"({"schema_version":true})")}) {
    EXPECT_EQ(Outcome(v), "ERROR INVALID_ARGUMENT") << "value: " << v;
  }
}

TEST(JsonMigrationTest, TransformErrorIsReturned) {
  class Failing : public JsonMigration {
   public:
    Failing() : JsonMigration(1, 2, "failing", "t:") {}
    absl::Status Transform(std::string_view, Json&) const override {
      return absl::DataLossError("nope");
    }
  };
  Failing m;
  auto r = m.Migrate("t:1", "{}");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nope"));
  EXPECT_TRUE(m.records_are_json());
  EXPECT_EQ(m.from(), 1);
  EXPECT_EQ(m.to(), 2);
  EXPECT_EQ(m.prefix(), "t:");
}

TEST(JsonMigrationTest, TransformThatReplacesTheObjectIsAnItemError) {
  class Replacing : public JsonMigration {
   public:
    Replacing() : JsonMigration(1, 2, "replacing", "t:") {}
    absl::Status Transform(std::string_view, Json& r) const override {
      r = Json::array();
      return absl::OkStatus();
    }
  };
  EXPECT_THAT(Replacing().Migrate("t:1", "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Regression: a schema_version above INT64_MAX (parsed as unsigned) wrapped
// to a negative number, read as "absent", and the record was migrated.
TEST(JsonMigrationRegressionTest, VersionAboveInt64MaxIsKeptNotMigrated) {
  EXPECT_EQ(Outcome(R"({"schema_version":18446744073709551615})"), "KEEP");
  EXPECT_EQ(Outcome(R"({"schema_version":9223372036854775808})"), "KEEP");
}

TEST(RecordSchemaVersionTest, ReadsTheField) {
  EXPECT_EQ(RecordSchemaVersion(Json::parse(R"({})")).value(), -1);
  EXPECT_EQ(RecordSchemaVersion(Json::parse(R"({"schema_version":0})")).value(),
            0);
  EXPECT_EQ(RecordSchemaVersion(Json::parse(R"({"schema_version":7})")).value(),
            7);
  EXPECT_THAT(RecordSchemaVersion(Json::parse(R"({"schema_version":"7"})")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rocksmigrate
