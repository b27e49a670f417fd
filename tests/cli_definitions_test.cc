// Bad migration definitions of every kind (SPEC §3, §8.3): the tool exits 2
// with one error line naming the file, and the database keeps every byte.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_test_util.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct BadDefinition {
  const char* label;
  // Files written into an otherwise empty migrations directory.
  std::vector<std::pair<std::string, std::string>> files;
  // Expected in the error line (besides "error: ").
  std::string names;    // The file (or step) the error must name.
  std::string problem;  // The problem it must describe.
};

std::string V2(const std::string& patch) {
  return absl::StrCat(
      R"({"from": 1, "to": 2, "name": "add_x", "prefix": "task:", "patch": )",
      patch, "}");
}

const std::string kGood = V2(R"([{"op": "add", "path": "/x", "value": 1}])");

std::vector<BadDefinition> Cases() {
  return {
      {"bad_json", {{"0002_add_x.json", R"({"from": 1, "to": 2,, })"}},
       "0002_add_x.json", "malformed JSON"},
      {"unknown_field",
       {{"0002_add_x.json",
         R"({"from":1,"to":2,"name":"add_x","prefix":"task:","patch":[],"when":"now"})"}},
       "0002_add_x.json", "unknown field \"when\""},
      {"missing_field",
       {{"0002_add_x.json", R"({"from":1,"to":2,"name":"add_x","patch":[]})"}},
       "0002_add_x.json", "missing field \"prefix\""},
      {"wrong_type",
       {{"0002_add_x.json",
         R"({"from":1,"to":"2","name":"add_x","prefix":"task:","patch":[]})"}},
       "0002_add_x.json", "\"to\" must be a non-negative integer"},
      {"to_not_from_plus_one",
       {{"0003_add_x.json",
         R"({"from":1,"to":3,"name":"add_x","prefix":"task:","patch":[]})"}},
       "0003_add_x.json", "must be \"from\" + 1"},
      {"bad_file_name", {{"02_add_x.json", kGood}}, "02_add_x.json",
       "file name must be 0002_add_x.json"},
      {"name_mismatch", {{"0002_add_y.json", kGood}}, "0002_add_y.json",
       "file name must be 0002_add_x.json"},
      {"bad_op",
       {{"0002_add_x.json", V2(R"([{"op": "upsert", "path": "/x", "value": 1}])")}},
       "0002_add_x.json", "unknown op \"upsert\""},
      {"bad_pointer",
       {{"0002_add_x.json", V2(R"([{"op": "add", "path": "x", "value": 1}])")}},
       "0002_add_x.json", "not a valid JSON pointer"},
      {"gap_in_chain",
       {{"0003_b.json",
         R"({"from":2,"to":3,"name":"b","prefix":"task:","patch":[]})"}},
       "v1", "v2"},
      {"gap_in_the_middle",
       {{"0002_add_x.json", kGood},
        {"0004_c.json",
         R"({"from":3,"to":4,"name":"c","prefix":"task:","patch":[]})"}},
       "v2", "v3"},
      {"duplicate_step_and_prefix",
       {{"0002_add_x.json", kGood},
        {"0002_add_z.json",
         R"({"from":1,"to":2,"name":"add_z","prefix":"task:","patch":[]})"}},
       "0002_add_z.json", "0002_add_x.json"},
  };
}

class CliDefinitionsTest : public ::testing::TestWithParam<BadDefinition> {};

TEST_P(CliDefinitionsTest, RejectedWithExit2AndNothingTouched) {
  const BadDefinition& bad = GetParam();
  TempDir dir;
  const std::string db = dir.Sub("db");
  const std::string migrations = dir.Sub("migrations");
  ASSERT_TRUE(std::filesystem::create_directory(migrations));
  for (const auto& [name, text] : bad.files) {
    WriteFileOrDie(migrations + "/" + name, text);
  }
  std::map<std::string, std::string> records;
  for (int i = 1; i <= 20; ++i) {
    records[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  LdbPut(db, records);
  const std::string before = LdbScan(db);

  // The writing command and the checks that would plan a run.
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{
           {"migrate"}, {"migrate", "--dry-run"}, {"status", "--check"}}) {
    std::vector<std::string> args = {"--db", db, "--migrations", migrations};
    args.insert(args.end(), command.begin(), command.end());
    RunResult r = RunTool(args);
    const std::string what = absl::StrCat(bad.label, " / ", command[0]);
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
    ASSERT_THAT(r.err, StartsWith("error: ")) << what;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << what << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(bad.names)) << what;
    EXPECT_THAT(r.err, HasSubstr(bad.problem)) << what;
    EXPECT_EQ(LdbScan(db), before) << what << ": the database changed";
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, CliDefinitionsTest, ::testing::ValuesIn(Cases()),
    [](const ::testing::TestParamInfo<BadDefinition>& info) {
      return std::string(info.param.label);
    });

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
