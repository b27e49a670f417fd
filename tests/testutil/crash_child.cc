// The child process of crash_test: opens a database, registers a fixed
// two-step chain and runs Migrate() or Rollback(1) to the end, unless the
// parent kills it with SIGKILL first (at a random moment, or at a fault
// point armed through RM_FAULT_POINT).
//
//   crash_child <db path> migrate|rollback|rollback-down <batch_items> <threads>
//
// rollback-down undoes both steps by their down transforms (each strips
// what its step added), leaving the steps' backups in place.
//
// The chain (crash_test.cc computes the expected bytes on its own):
//   v1 -> v2  "note:"  C++: appends "+" (not idempotent)
//             "task:"  JSON: adds "depends_on": []
//   v2 -> v3  "note:"  C++: appends "#" (not idempotent)
//             "task:"  JSON: adds "priority": 0; a record with "poison" is
//                      an item error
//
// Exit codes: 0 success, 1 Aborted (an item error, restored), 2 bad usage,
// 3 any other error.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/fault_point_env.h"

namespace {

using rocksmigrate::ItemResult;
using rocksmigrate::Json;
using rocksmigrate::JsonMigration;
using rocksmigrate::Migration;

class AppendSuffix : public Migration {
 public:
  AppendSuffix(int from, std::string suffix)
      : from_(from), suffix_(std::move(suffix)) {}
  int from() const override { return from_; }
  int to() const override { return from_ + 1; }
  std::string name() const override {
    return "note_append_v" + std::to_string(from_ + 1);
  }
  std::string prefix() const override { return "note:"; }
  absl::StatusOr<ItemResult> Migrate(std::string_view,
                                     std::string_view value) const override {
    return ItemResult::Write(std::string(value) + suffix_);
  }
  bool has_down() const override { return true; }
  absl::StatusOr<ItemResult> Down(std::string_view,
                                  std::string_view value) const override {
    if (value.size() < suffix_.size() ||
        value.substr(value.size() - suffix_.size()) != suffix_) {
      return ItemResult::Keep();
    }
    return ItemResult::Write(
        std::string(value.substr(0, value.size() - suffix_.size())));
  }

 private:
  int from_;
  std::string suffix_;
};

class TaskAddDependsOn : public JsonMigration {
 public:
  TaskAddDependsOn() : JsonMigration(1, 2, "task_add_depends_on", "task:") {}
  absl::Status Transform(std::string_view, Json& task) const override {
    task["depends_on"] = Json::array();
    return absl::OkStatus();
  }
  bool has_down() const override { return true; }
  absl::Status DownTransform(std::string_view, Json& task) const override {
    task.erase("depends_on");
    return absl::OkStatus();
  }
};

class TaskAddPriority : public JsonMigration {
 public:
  TaskAddPriority() : JsonMigration(2, 3, "task_add_priority", "task:") {}
  absl::Status Transform(std::string_view, Json& task) const override {
    if (task.contains("poison")) {
      return absl::InvalidArgumentError("poisoned record");
    }
    task["priority"] = 0;
    return absl::OkStatus();
  }
  bool has_down() const override { return true; }
  absl::Status DownTransform(std::string_view, Json& task) const override {
    task.erase("priority");
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  rocksmigrate::testing::ArmFaultPointFromEnvironment();
  if (argc != 5) {
    std::cerr << "usage: crash_child <db> migrate|rollback <batch_items> "
                 "<threads>\n";
    return 2;
  }
  const std::string path = argv[1];
  const std::string mode = argv[2];
  rocksdb::Options options;
  options.create_if_missing = false;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      options, rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    std::cerr << "open: " << s.ToString() << "\n";
    return 3;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);

  rocksmigrate::MigrationRegistry registry;
  std::vector<std::unique_ptr<Migration>> chain;
  chain.push_back(std::make_unique<AppendSuffix>(1, "+"));
  chain.push_back(std::make_unique<TaskAddDependsOn>());
  chain.push_back(std::make_unique<AppendSuffix>(2, "#"));
  chain.push_back(std::make_unique<TaskAddPriority>());
  for (auto& m : chain) {
    absl::Status r = registry.Register(std::move(m));
    if (!r.ok()) {
      std::cerr << r << "\n";
      return 3;
    }
  }
  rocksmigrate::MigratorOptions mo;
  mo.batch_items = std::strtoul(argv[3], nullptr, 10);
  mo.threads = std::atoi(argv[4]);
  auto migrator = rocksmigrate::Migrator::Create(db.get(), &registry, mo);
  if (!migrator.ok()) {
    std::cerr << migrator.status() << "\n";
    return 3;
  }
  absl::Status result;
  if (mode == "migrate") {
    result = (*migrator)->Migrate().status();
  } else if (mode == "rollback" || mode == "rollback-down") {
    // A rollback that a kill interrupted after its last commit is done:
    // Rollback(1) on a database at v1 would be a usage error.
    auto state = (*migrator)->Inspect();
    if (state.ok() && state->current_version <= 1 && !state->in_flight) {
      return 0;
    }
    result = (*migrator)
                 ->Rollback(1, mode == "rollback" ? rocksmigrate::RollbackMethod::kAuto
                                                  : rocksmigrate::RollbackMethod::kDown)
                 .status();
  } else {
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  }
  if (result.ok()) return 0;
  std::cerr << result << "\n";
  return absl::IsAborted(result) ? 1 : 3;
}
