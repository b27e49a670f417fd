// Declarative migrations in-process: the loader's checks (SPEC §3, §8.3) and
// the patch semantics applied to records.
#include "rocksmigrate/declarative.h"

#include <cstdio>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void Write(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
  ASSERT_EQ(std::fclose(f), 0);
}

// A file for step 1 -> 2 of "task:" with `patch` (a JSON array text).
std::string File(const std::string& patch) {
  return R"({"from": 1, "to": 2, "name": "m", "prefix": "task:", "patch": )" +
         patch + "}";
}

class DeclarativeTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<Migration>> Load(const std::string& name,
                                                  const std::string& text) {
    const std::string path = dir_.Sub(name);
    Write(path, text);
    return LoadMigrationFile(path);
  }

  // Loads a 1 -> 2 migration with `patch` and runs it on `value`.
  absl::StatusOr<ItemResult> Apply(const std::string& patch,
                                   const std::string& value) {
    auto m = Load("0002_m.json", File(patch));
    if (!m.ok()) return m.status();
    migration_ = std::move(*m);
    return migration_->Migrate("task:1", value);
  }

  // Expects `patch` to turn `value` into exactly `expected`.
  void ExpectWrite(const std::string& patch, const std::string& value,
                   const std::string& expected) {
    absl::StatusOr<ItemResult> r = Apply(patch, value);
    ASSERT_THAT(r, IsOk());
    ASSERT_EQ(r->kind(), ItemResult::Kind::kWrite);
    EXPECT_EQ(r->value(), expected);
  }

  // Expects an item error whose message holds `what`.
  void ExpectItemError(const std::string& patch, const std::string& value,
                       const std::string& what) {
    absl::StatusOr<ItemResult> r = Apply(patch, value);
    ASSERT_FALSE(r.ok()) << "patch " << patch << " on " << value
                         << " should fail";
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(what));
  }

  // Expects the loader to reject `text` as `name`, naming the file.
  void ExpectRejected(const std::string& name, const std::string& text,
                      const std::string& what) {
    auto m = Load(name, text);
    ASSERT_THAT(m, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    const std::string message(m.status().message());
    EXPECT_THAT(message, StartsWith(dir_.Sub(name) + ": "));
    EXPECT_THAT(message, HasSubstr(what));
  }

  TempDir dir_;
  std::unique_ptr<Migration> migration_;
};

TEST_F(DeclarativeTest, LoadsTheShippedTaskMigration) {
  const std::string path = std::string(RM_SOURCE_DIR_FOR_TESTS) +
                           "/migrations/0002_task_add_dependencies.json";
  auto m = LoadMigrationFile(path);
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ((*m)->from(), 1);
  EXPECT_EQ((*m)->to(), 2);
  EXPECT_EQ((*m)->name(), "task_add_dependencies");
  EXPECT_EQ((*m)->prefix(), "task:");
  EXPECT_TRUE((*m)->records_are_json());
  EXPECT_EQ((*m)->source_file(), "0002_task_add_dependencies.json");

  // The checksum is the file's SHA-256 as coreutils computes it.
  FILE* p = popen(("sha256sum " + path).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[65] = {};
  ASSERT_EQ(std::fread(buf, 1, 64, p), 64u);
  pclose(p);
  EXPECT_EQ((*m)->checksum(), std::string(buf, 64));

  auto r = (*m)->Migrate("task:1", R"({"id":1,"title":"a","schema_version":1})");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(),
            R"({"id":1,"title":"a","schema_version":2,"depends_on":[],"related_tasks":[]})");
}

TEST_F(DeclarativeTest, AddAppendsAndKeepsTheOrderOfUntouchedMembers) {
  ExpectWrite(R"([{"op":"add","path":"/b","value":{"x":[1,2]}}])",
              R"({"z":1,"a":"two","m":[3],"schema_version":1,"k":null})",
              R"({"z":1,"a":"two","m":[3],"schema_version":2,"k":null,"b":{"x":[1,2]}})");
}

TEST_F(DeclarativeTest, AddReplacesAnExistingMemberInPlace) {
  ExpectWrite(R"([{"op":"add","path":"/a","value":9}])",
              R"({"a":1,"b":2})", R"({"a":9,"b":2,"schema_version":2})");
}

TEST_F(DeclarativeTest, AddIntoArrays) {
  ExpectWrite(R"([{"op":"add","path":"/t/-","value":"z"},
                  {"op":"add","path":"/t/0","value":"a"}])",
              R"({"t":["m"]})", R"({"t":["a","m","z"],"schema_version":2})");
}

TEST_F(DeclarativeTest, Remove) {
  ExpectWrite(R"([{"op":"remove","path":"/legacy"},
                  {"op":"remove","path":"/t/1"}])",
              R"({"a":1,"legacy":true,"t":[1,2,3]})",
              R"({"a":1,"t":[1,3],"schema_version":2})");
}

TEST_F(DeclarativeTest, Replace) {
  ExpectWrite(R"([{"op":"replace","path":"/p","value":"high"}])",
              R"({"p":1,"q":2})", R"({"p":"high","q":2,"schema_version":2})");
}

TEST_F(DeclarativeTest, MoveRenamesAMember) {
  ExpectWrite(R"([{"op":"move","from":"/owner","path":"/assignee"}])",
              R"({"id":1,"owner":"u1","x":0})",
              R"({"id":1,"x":0,"assignee":"u1","schema_version":2})");
}

TEST_F(DeclarativeTest, Copy) {
  ExpectWrite(R"([{"op":"copy","from":"/c","path":"/u"}])",
              R"({"c":{"d":1}})", R"({"c":{"d":1},"u":{"d":1},"schema_version":2})");
}

TEST_F(DeclarativeTest, PassingTestLeavesTheRecord) {
  ExpectWrite(R"([{"op":"test","path":"/kind","value":"task"}])",
              R"({"kind":"task"})", R"({"kind":"task","schema_version":2})");
}

TEST_F(DeclarativeTest, FailingTestIsAnItemErrorNamingTheOp) {
  ExpectItemError(R"([{"op":"add","path":"/x","value":1},
                      {"op":"test","path":"/kind","value":"task"}])",
                  R"({"kind":"note"})", "op 2 (test /kind)");
  ExpectItemError(R"([{"op":"test","path":"/kind","value":"task"}])",
                  R"({"other":1})", "/kind does not exist");
}

TEST_F(DeclarativeTest, OperationsOnMissingPathsAreItemErrors) {
  ExpectItemError(R"([{"op":"remove","path":"/nope"}])", R"({"a":1})",
                  "op 1 (remove /nope)");
  ExpectItemError(R"([{"op":"replace","path":"/nope","value":1}])",
                  R"({"a":1})", "/nope does not exist");
  ExpectItemError(R"([{"op":"move","from":"/nope","path":"/b"}])",
                  R"({"a":1})", "/nope does not exist");
  ExpectItemError(R"([{"op":"copy","from":"/nope","path":"/b"}])",
                  R"({"a":1})", "/nope does not exist");
  ExpectItemError(R"([{"op":"add","path":"/no/such","value":1}])",
                  R"({"a":1})", "parent of /no/such does not exist");
  ExpectItemError(R"([{"op":"add","path":"/t/5","value":1}])",
                  R"({"t":[1]})", "out of range");
}

TEST_F(DeclarativeTest, AddUnderAScalarIsAnItemErrorNotACrash) {
  ExpectItemError(R"([{"op":"add","path":"/title/x","value":1}])",
                  R"({"title":"a string"})", "not an object or array");
  ExpectItemError(R"([{"op":"remove","path":"/title/x"}])",
                  R"({"title":"a string"})", "/title/x does not exist");
}

TEST_F(DeclarativeTest, ReplacingTheRecordWithANonObjectIsAnItemError) {
  ExpectItemError(R"([{"op":"replace","path":"","value":[1]}])", R"({"a":1})",
                  "not a JSON object");
}

TEST_F(DeclarativeTest, NonObjectAndMalformedValuesAreItemErrors) {
  EXPECT_FALSE(Apply("[]", "[1,2]").ok());
  EXPECT_FALSE(Apply("[]", "\"text\"").ok());
  EXPECT_FALSE(Apply("[]", "{\"a\":").ok());
  EXPECT_FALSE(Apply("[]", "").ok());
  EXPECT_FALSE(Apply("[]", R"({"schema_version":"1"})").ok());
  EXPECT_FALSE(Apply("[]", R"({"schema_version":-1})").ok());
}

TEST_F(DeclarativeTest, RecordsAtOrAboveTheTargetAreSkipped) {
  for (const char* value : {R"({"a":1,"schema_version":2})",
                            R"({"a":1,"schema_version":7})"}) {
    absl::StatusOr<ItemResult> r =
        Apply(R"([{"op":"remove","path":"/nope"}])", value);
    ASSERT_THAT(r, IsOk()) << value;
    EXPECT_EQ(r->kind(), ItemResult::Kind::kKeep) << value;
  }
}

TEST_F(DeclarativeTest, RecordsWithoutAVersionAreMigrated) {
  ExpectWrite("[]", R"({"a":1})", R"({"a":1,"schema_version":2})");
}

TEST_F(DeclarativeTest, RejectsMalformedJson) {
  ExpectRejected("0002_m.json", R"({"from": 1, "to": 2,)", "malformed JSON");
  ExpectRejected("0002_m.json", "", "malformed JSON");
  ExpectRejected("0002_m.json", "[1]", "must hold a JSON object");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"from":1,"to":2,"name":"m","prefix":"p","patch":[]})",
                 "duplicate member name \"from\"");
}

TEST_F(DeclarativeTest, RejectsUnknownMissingAndMistypedFields) {
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":"m","prefix":"p","patch":[],"extra":1})",
                 "unknown field \"extra\"");
  ExpectRejected("0002_m.json", R"({"from":1,"to":2,"name":"m","patch":[]})",
                 "missing field \"prefix\"");
  ExpectRejected("0002_m.json", R"({"to":2,"name":"m","prefix":"p","patch":[]})",
                 "missing field \"from\"");
  ExpectRejected("0002_m.json", R"({"from":1,"to":2,"name":"m","prefix":"p"})",
                 "missing field \"patch\"");
  ExpectRejected("0002_m.json",
                 R"({"from":"1","to":2,"name":"m","prefix":"p","patch":[]})",
                 "\"from\" must be a non-negative integer");
  ExpectRejected("0002_m.json",
                 R"({"from":1.5,"to":2,"name":"m","prefix":"p","patch":[]})",
                 "\"from\" must be a non-negative integer");
  // Found by the fuzzer: a version of 40 digits overflowed while read.
  ExpectRejected("0002_m.json",
                 R"({"from":8888888888888888888888888888888888881,"to":2,)"
                 R"("name":"m","prefix":"p","patch":[]})",
                 "\"from\" must be a non-negative integer");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":3,"prefix":"p","patch":[]})",
                 "\"name\" must be a string");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":"m","prefix":"p","patch":{}})",
                 "\"patch\" must be an array");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":"m","description":1,"prefix":"p","patch":[]})",
                 "\"description\" must be a string");
}

TEST_F(DeclarativeTest, RejectsBadVersionsNamesAndPrefixes) {
  ExpectRejected("0003_m.json",
                 R"({"from":1,"to":3,"name":"m","prefix":"p","patch":[]})",
                 "must be \"from\" + 1");
  ExpectRejected("0003_m.json", File("[]"), "file name must be 0002_m.json");
  ExpectRejected("2_m.json", File("[]"), "file name must be 0002_m.json");
  ExpectRejected("0002_other.json", File("[]"), "file name must be 0002_m.json");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":"m","prefix":"","patch":[]})",
                 "\"prefix\" must not be empty");
  ExpectRejected("0002_m.json",
                 R"({"from":1,"to":2,"name":"m","prefix":"_x","patch":[]})",
                 "reserved");
}

TEST_F(DeclarativeTest, RejectsBadPatchOperations) {
  ExpectRejected("0002_m.json", File("[1]"), "patch op 1 must be an object");
  ExpectRejected("0002_m.json", File(R"([{"op":"frobnicate","path":"/a"}])"),
                 "unknown op \"frobnicate\"");
  ExpectRejected("0002_m.json", File(R"([{"path":"/a"}])"),
                 "\"op\" must be a string");
  ExpectRejected("0002_m.json", File(R"([{"op":"remove"}])"),
                 "\"path\" must be a JSON pointer string");
  ExpectRejected("0002_m.json", File(R"([{"op":"remove","path":"a"}])"),
                 "not a valid JSON pointer");
  ExpectRejected("0002_m.json", File(R"([{"op":"remove","path":"/a~2"}])"),
                 "not a valid JSON pointer");
  ExpectRejected("0002_m.json", File(R"([{"op":"add","path":"/a"}])"),
                 "missing \"value\"");
  ExpectRejected("0002_m.json", File(R"([{"op":"test","path":"/a"}])"),
                 "missing \"value\"");
  ExpectRejected("0002_m.json",
                 File(R"([{"op":"add","path":"/a","value":1},
                          {"op":"move","path":"/b"}])"),
                 "patch op 2 (move /b): \"from\" must be");
  ExpectRejected("0002_m.json",
                 File(R"([{"op":"copy","from":"x","path":"/b"}])"),
                 "not a valid JSON pointer");
  ExpectRejected("0002_m.json", File(R"([{"op":"remove","path":""}])"),
                 "cannot remove the whole record");
}

// RFC 6902 §4 (and its example A.11): members an operation does not define
// are ignored. Every operation's own members are still required, so a
// misspelt one is still an error.
TEST_F(DeclarativeTest, AnOperationsUnknownMembersAreIgnored) {
  ExpectWrite(R"([{"op":"add","path":"/a","value":1,"comment":"why"}])",
              R"({"b":2})", R"({"b":2,"a":1,"schema_version":2})");
  ExpectRejected("0002_m.json", File(R"([{"op":"add","path":"/a","valeu":1}])"),
                 "missing \"value\"");
}

TEST_F(DeclarativeTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadMigrationFile(dir_.Sub("0002_none.json")).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DeclarativeTest, LoadsADirectoryInNameOrderIgnoringOtherFiles) {
  Write(dir_.Sub("README.md"), "not json");
  Write(dir_.Sub("0003_b.json"),
        R"({"from":2,"to":3,"name":"b","prefix":"task:","patch":[]})");
  Write(dir_.Sub("0002_a.json"),
        R"({"from":1,"to":2,"name":"a","prefix":"task:","patch":[]})");
  Write(dir_.Sub("0002_n.json"),
        R"({"from":1,"to":2,"name":"n","prefix":"note:","patch":[]})");
  auto loaded = LoadMigrationDir(dir_.path());
  ASSERT_THAT(loaded, IsOk());
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0]->source_file(), "0002_a.json");
  EXPECT_EQ((*loaded)[1]->source_file(), "0002_n.json");
  EXPECT_EQ((*loaded)[2]->source_file(), "0003_b.json");

  MigrationRegistry registry;
  ASSERT_THAT(RegisterMigrationDir(dir_.path(), &registry), IsOk());
  EXPECT_EQ(registry.newest_version(), 3);
  ASSERT_THAT(registry.PlanPath(1, 3), IsOk());
}

TEST_F(DeclarativeTest, MissingDirectoryIsNotFound) {
  EXPECT_THAT(LoadMigrationDir(dir_.Sub("nope")).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DeclarativeTest, DuplicateStepAndPrefixNamesBothFiles) {
  Write(dir_.Sub("0002_a.json"),
        R"({"from":1,"to":2,"name":"a","prefix":"task:","patch":[]})");
  Write(dir_.Sub("0002_b.json"),
        R"({"from":1,"to":2,"name":"b","prefix":"task:","patch":[]})");
  auto loaded = LoadMigrationDir(dir_.path());
  ASSERT_THAT(loaded.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("0002_b.json: step v1 -> v2 for prefix \"task:\" is "
                        "already defined by 0002_a.json"));
}

TEST_F(DeclarativeTest, FirstBadFileInADirectoryIsReported) {
  Write(dir_.Sub("0002_a.json"),
        R"({"from":1,"to":2,"name":"a","prefix":"task:","patch":[]})");
  Write(dir_.Sub("0003_b.json"), R"({"from":2,"to":3,"name":"b")");
  MigrationRegistry registry;
  absl::Status s = RegisterMigrationDir(dir_.path(), &registry);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("0003_b.json: malformed JSON"));
}

TEST_F(DeclarativeTest, RegistryRejectionNamesTheFile) {
  Write(dir_.Sub("0002_a.json"),
        R"({"from":1,"to":2,"name":"a","prefix":"task:","patch":[]})");
  Write(dir_.Sub("0002_b.json"),
        R"({"from":1,"to":2,"name":"b","prefix":"task:sub:","patch":[]})");
  MigrationRegistry registry;
  absl::Status s = RegisterMigrationDir(dir_.path(), &registry);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("0002_b.json: "));
}

}  // namespace
}  // namespace rocksmigrate
