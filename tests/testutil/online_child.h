// What online_child and online_crash_test share: the records, the
// migration, and the value a server write holds.
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_ONLINE_CHILD_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_ONLINE_CHILD_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/json_migration.h"

namespace rocksmigrate {
namespace online_child {

inline constexpr int kTasks = 12000;
inline constexpr int kBatchItems = 50;
inline constexpr int kRecordsPerSecond = 3000;

inline std::string TaskKey(int i) { return absl::StrFormat("task:%06d", i); }
inline std::string V1Value(int i) {
  return absl::StrCat(R"({"id":)", i, R"(,"title":"t)", i, R"("})");
}
inline std::string ServerValue(int i, uint64_t n) {
  return absl::StrCat(R"({"id":)", i, R"(,"title":"w)", n,
                      R"(","done":true,"schema_version":2})");
}

// v1 -> v2 of "task:": adds "done": false.
class AddDone : public JsonMigration {
 public:
  AddDone() : JsonMigration(1, 2, "task_add_done", "task:") {}
  absl::Status Transform(std::string_view, Json& record) const override {
    record["done"] = false;
    return absl::OkStatus();
  }
};

inline std::unique_ptr<Migration> MakeMigration() {
  return std::make_unique<AddDone>();
}

}  // namespace online_child
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_ONLINE_CHILD_H_
