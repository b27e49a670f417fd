// What the README's snippets take as given (the reader's own code): an
// open database, a registry, a status, a migration of theirs and an HTTP
// response. Declarations only: the snippets are compiled, never run.
#ifndef ROCKSMIGRATE_TESTS_README_HARNESS_H_
#define ROCKSMIGRATE_TESTS_README_HARNESS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/registry.h"

namespace readme_harness {

rocksdb::TransactionDB* OpenYourDatabase();

// "task_v1_to_v2.h // your migrations".
class TaskV1ToV2 : public rocksmigrate::JsonMigration {
 public:
  TaskV1ToV2() : JsonMigration(1, 2, "task_add_dependencies", "task:") {}
  absl::Status Transform(std::string_view, rocksmigrate::Json&) const override {
    return absl::OkStatus();
  }
};

struct Response {
  std::string body;
};

extern rocksdb::TransactionDB* db;
extern rocksmigrate::MigrationRegistry registry;
extern absl::Status s;
extern Response response;

}  // namespace readme_harness

#endif  // ROCKSMIGRATE_TESTS_README_HARNESS_H_
