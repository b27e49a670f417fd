// Records at every edge of JSON (SPEC §8.11), through every path that
// parses one: migrate (a C++ JsonMigration and a JSON Patch file), the dry
// run, validate and rollback. A record the DOM cannot hold exactly is an
// item error that names the key (the step is restored byte for byte),
// never a crash and never a silent change; one it can hold is migrated.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/migrator.h"
#include "src/json_parse.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string Nested(int depth) {
  return absl::StrCat(R"({"schema_version":1,"a":)", std::string(depth, '['),
                      std::string(depth, ']'), "}");
}

struct Edge {
  std::string name;
  std::string value;
  // Empty: the record is migrated. Else: an item error whose message has
  // this text. For the C++ JsonMigration (an nlohmann DOM, which must hold
  // the record exactly)...
  std::string cpp_error;
  // ...and for the JSON Patch engine and validate, which read the bytes
  // and never round a number.
  std::string bytes_error;
  // The record's schema_version is above the step: skipped by the engine,
  // a note in validate.
  bool ahead = false;
};

void PrintTo(const Edge& e, std::ostream* os) { *os << e.name; }

std::vector<Edge> Edges() {
  const std::string depth = "nested deeper than 256";
  const std::string dup = "duplicate member name \"a\"";
  const std::string exact = "cannot be held exactly";
  const std::string invalid = "not valid JSON";
  return {
      {"nested 100000 deep", Nested(100000), depth, depth},
      {"nested 257 deep", Nested(256), depth, depth},
      {"nested 256 deep", Nested(255), "", ""},
      {"duplicate member", R"({"schema_version":1,"a":1,"a":2})", dup, dup},
      {"duplicate by escape", R"({"schema_version":1,"a":1,"\u0061":2})", dup,
       dup},
      {"nested duplicate", R"({"schema_version":1,"o":{"x":[{"k":1,"k":1}]}})",
       "duplicate member name \"k\"", "duplicate member name \"k\""},
      {"same name at two levels", R"({"schema_version":1,"k":{"k":1}})", "", ""},
      {"integer beyond 64 bits",
       R"({"schema_version":1,"n":123456789012345678901234567890})", exact, ""},
      {"negative integer beyond 64 bits",
       R"({"schema_version":1,"n":-9223372036854775809})", exact, ""},
      {"decimal beyond double",
       R"({"schema_version":1,"n":0.10000000000000000001})", exact, ""},
      {"exponent beyond double", R"({"schema_version":1,"n":1e400})", exact, ""},
      {"largest unsigned", R"({"schema_version":1,"n":18446744073709551615})",
       "", ""},
      {"smallest signed", R"({"schema_version":1,"n":-9223372036854775808})",
       "", ""},
      {"short decimal", R"({"schema_version":1,"n":0.1,"m":1.5e3})", "", ""},
      {"invalid UTF-8", "{\"schema_version\":1,\"s\":\"\xc3(\"}", invalid,
       invalid},
      {"overlong UTF-8", "{\"schema_version\":1,\"s\":\"\xc0\xaf\"}", invalid,
       invalid},
      {"lone surrogate escape", R"({"schema_version":1,"s":"\ud800"})", invalid,
       invalid},
      {"NUL inside", std::string("{\"schema_version\":1}\0{}", 22), "NUL",
       "NUL"},
      {"empty value", "", invalid, invalid},
      {"trailing garbage", R"({"schema_version":1} x)", invalid, invalid},
      {"not an object", "[1,2]", "not an object", "not an object"},
      {"version too big for the step",
       R"({"schema_version":18446744073709551616})", exact, "", true},
  };
}

class RecordEdgeTest : public ::testing::TestWithParam<Edge> {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    db_ = TestDb::Open(dir_->Sub("db"));
    Dump records;
    for (int i = 0; i < 10; ++i) {
      records[absl::StrCat("task:0", i)] =
          absl::StrCat(R"({"id":)", i, R"(,"schema_version":1})");
    }
    records["task:05"] = GetParam().value;
    db_->Put(records);
    before_ = db_->DumpAll();
  }

  // Runs `registry`'s migration and checks the outcome `error` (the edge's
  // expectation for that path) calls for.
  void ExpectMigrate(const MigrationRegistry& registry, const std::string& error,
                     bool keeps_bytes) {
    const Edge& e = GetParam();
    auto m = MakeMigrator(db_->db(), &registry, SmallBatches(3, 2));
    auto dry = m->DryRun();
    ASSERT_THAT(dry, IsOk());
    ASSERT_EQ(dry->steps.size(), 1u);
    auto report = m->Migrate();
    Dump after = db_->DumpAll();
    if (error.empty()) {
      EXPECT_EQ(dry->steps[0].items_failed, 0u);
      ASSERT_THAT(report, IsOk());
      if (e.ahead) {
        EXPECT_EQ(after.at("task:05"), e.value);  // Skipped.
        EXPECT_EQ(report->steps[0].items_ahead, 1u);
        return;
      }
      EXPECT_NE(after.at("task:05"), e.value);
      EXPECT_THAT(after.at("task:05"), HasSubstr(R"("schema_version":2)"));
      if (keeps_bytes) {
        // Everything but the version keeps its bytes: the record as it was,
        // with the version's digit changed and the patch's member added.
        std::string expected = e.value;
        const size_t at = expected.find(R"("schema_version":1)");
        ASSERT_NE(at, std::string::npos);
        expected[at + 17] = '2';
        expected.insert(expected.size() - 1, R"(,"x":7)");
        EXPECT_EQ(after.at("task:05"), expected);
      }
      return;
    }
    EXPECT_EQ(dry->steps[0].items_failed, 1u);
    ASSERT_EQ(dry->steps[0].first_failures.size(), 1u);
    EXPECT_EQ(dry->steps[0].first_failures[0].key, "task:05");
    EXPECT_THAT(dry->steps[0].first_failures[0].message, HasSubstr(error));
    ASSERT_THAT(report, StatusIs(absl::StatusCode::kAborted));
    EXPECT_THAT(std::string(report.status().message()), HasSubstr("task:05"));
    EXPECT_THAT(std::string(report.status().message()), HasSubstr(error));
    // Every user record holds the bytes it held; no backup is left; the
    // failure is in the history.
    EXPECT_EQ(db_->DumpUser(), WithPrefix(before_, "task:"));
    for (const auto& [k, v] : after) {
      EXPECT_NE(k.rfind("_backup_", 0), 0u) << k;
    }
    nlohmann::json h = RawHistory(after);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0]["status"], "failed");
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TestDb> db_;
  Dump before_;
};

TEST_P(RecordEdgeTest, CppJsonMigration) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "x", 7)),
              IsOk());
  ExpectMigrate(registry, GetParam().cpp_error, /*keeps_bytes=*/false);
}

TEST_P(RecordEdgeTest, JsonPatchFile) {
  const std::string dir = dir_->Sub("migrations");
  std::filesystem::create_directory(dir);
  WriteFile(dir + "/0002_add_x.json",
            R"({"from":1,"to":2,"name":"add_x","prefix":"task:",)"
            R"("patch":[{"op":"add","path":"/x","value":7}]})");
  MigrationRegistry registry;
  ASSERT_THAT(RegisterMigrationDir(dir, &registry), IsOk());
  ExpectMigrate(registry, GetParam().bytes_error, /*keeps_bytes=*/true);
}

// validate parses without a DOM, by the same rules; a record that cannot
// be held is a problem naming its key, never a crash.
TEST_P(RecordEdgeTest, Validate) {
  const Edge& e = GetParam();
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "x", 7)),
              IsOk());
  db_->Put("task:05", R"({"id":5,"schema_version":1})");
  auto m = MakeMigrator(db_->db(), &registry, SmallBatches(3, 2));
  ASSERT_THAT(m->Migrate(), IsOk());
  // The record the edge describes, at the version, written after the run.
  std::string at_v2 = e.value;
  const size_t at = at_v2.find(R"("schema_version":1)");
  if (at != std::string::npos) at_v2[at + 17] = '2';
  db_->Put("task:05", at_v2);
  auto report = m->Validate();
  ASSERT_THAT(report, IsOk());
  if (e.bytes_error.empty()) {
    EXPECT_TRUE(report->ok()) << report->problems[0].message;
    EXPECT_EQ(report->ahead_count, e.ahead ? 1u : 0u);
    return;
  }
  ASSERT_EQ(report->problem_count, 1u);
  EXPECT_EQ(report->problems[0].key, "task:05");
  EXPECT_THAT(report->problems[0].message, HasSubstr(e.bytes_error));
}

// A rollback restores bytes without parsing them: an edge record the server
// wrote after the step is replaced by its backup, whatever it holds.
TEST_P(RecordEdgeTest, Rollback) {
  const Edge& e = GetParam();
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "x", 7)),
              IsOk());
  db_->Put("task:05", R"({"id":5,"schema_version":1})");
  const Dump v1 = db_->DumpUser();
  auto m = MakeMigrator(db_->db(), &registry, SmallBatches(3, 2));
  ASSERT_THAT(m->Migrate(), IsOk());
  db_->Put("task:05", e.value);
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db_->DumpUser(), v1);
}

INSTANTIATE_TEST_SUITE_P(Json, RecordEdgeTest, ::testing::ValuesIn(Edges()),
                         [](const ::testing::TestParamInfo<Edge>& info) {
                           std::string n;
                           for (char c : info.param.name) {
                             n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
                           }
                           return n;
                         });

// A 64 MiB record is migrated, validated and rolled back like any other;
// the transform's output is bounded by depth too.
TEST(BigRecordTest, SixtyFourMebibyteRecordMigratesValidatesAndRollsBack) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const std::string big = absl::StrCat(R"({"schema_version":1,"blob":")",
                                       std::string(64 << 20, 'b'), R"("})");
  db->Put({{"task:big", big}, {"task:small", R"({"schema_version":1})"}});
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "x", 7)),
              IsOk());
  auto m = MakeMigrator(db->db(), &registry, SmallBatches(1000, 2));
  ASSERT_THAT(m->Migrate(), IsOk());
  std::string migrated;
  ASSERT_TRUE(db->db()->Get(rocksdb::ReadOptions(), "task:big", &migrated).ok());
  EXPECT_EQ(migrated.size(), big.size() + 6);  // ,"x":7
  auto report = m->Validate();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records_checked, 2u);
  ASSERT_THAT(m->Rollback(1), IsOk());
  std::string back;
  ASSERT_TRUE(db->db()->Get(rocksdb::ReadOptions(), "task:big", &back).ok());
  EXPECT_TRUE(back == big);
}

// A C++ transform that nests the record past the bound is an item error,
// not a stack overflow when the record is written out.
class DeepeningMigration : public JsonMigration {
 public:
  DeepeningMigration() : JsonMigration(1, 2, "deepen", "task:") {}
  absl::Status Transform(std::string_view, Json& record) const override {
    Json deep = Json::array();
    for (int i = 0; i < 100000; ++i) deep = Json::array({std::move(deep)});
    record["deep"] = std::move(deep);
    return absl::OkStatus();
  }
};

TEST(BigRecordTest, ATransformThatNestsTooDeepIsAnItemError) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", R"({"schema_version":1})"}});
  const Dump before = db->DumpUser();
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<DeepeningMigration>()), IsOk());
  auto m = MakeMigrator(db->db(), &registry);
  auto report = m->Migrate();
  ASSERT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("nested deeper than 256"));
  EXPECT_EQ(db->DumpUser(), before);
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
