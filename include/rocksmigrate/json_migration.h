// A convenience base for migrations of JSON object records.
#ifndef ROCKSMIGRATE_JSON_MIGRATION_H_
#define ROCKSMIGRATE_JSON_MIGRATION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/migration.h"

namespace rocksmigrate {

// Records are JSON objects; members keep their order (nlohmann::ordered_json),
// so a migration changes only what it touches.
using Json = nlohmann::ordered_json;

// Parses each record, applies the per-record version rule, calls Transform()
// and stamps `schema_version` = to().
//
//  - a value that is not a JSON object is an item error; so is one the
//    parsed object cannot hold exactly: invalid JSON or UTF-8, a NUL byte,
//    nesting deeper than 256 arrays and objects, two members with one name,
//    an integer beyond 64 bits or a decimal a double does not hold as
//    written. Never a crash, never a silent change;
//  - `schema_version` absent: the record is older than any step, migrated;
//  - `schema_version` not a non-negative integer: item error;
//  - `schema_version` == to(): Keep (skipped, not rewritten, not backed up);
//  - `schema_version` > to(): KeepNewer (skipped too, counted apart);
//  - a value Transform() nests deeper than the bound: item error.
//
// Example:
//   class TaskAddDependencies : public JsonMigration {
//    public:
//     TaskAddDependencies() : JsonMigration(1, 2, "task_add_dependencies",
//                                           "task:") {}
//     absl::Status Transform(std::string_view key, Json& task) const override {
//       task["depends_on"] = Json::array();
//       return absl::OkStatus();
//     }
//     // Optional, for `rollback` once the backup is gone:
//     bool has_down() const override { return true; }
//     absl::Status DownTransform(std::string_view key,
//                                Json& task) const override {
//       task.erase("depends_on");
//       return absl::OkStatus();
//     }
//   };
class JsonMigration : public Migration {
 public:
  JsonMigration(int from, int to, std::string name, std::string prefix)
      : from_(from), to_(to), name_(std::move(name)),
        prefix_(std::move(prefix)) {}

  int from() const override { return from_; }
  int to() const override { return to_; }
  std::string name() const override { return name_; }
  std::string prefix() const override { return prefix_; }
  bool records_are_json() const override { return true; }

  // Changes `record` in place (a JSON object). A non-OK status is an item
  // error; so is an exception.
  virtual absl::Status Transform(std::string_view key, Json& record) const = 0;

  absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                     std::string_view value) const final;

  // The down transform, optional: a subclass that overrides DownTransform()
  // returns true from has_down(). Down() applies the mirror of the version
  // rule: schema_version == to(): DownTransform() then schema_version =
  // from(); below to() or absent: Keep; above to(): KeepNewer.
  bool has_down() const override { return false; }
  virtual absl::Status DownTransform(std::string_view key, Json& record) const;
  absl::StatusOr<ItemResult> Down(std::string_view key,
                                  std::string_view value) const final;

 private:
  int from_;
  int to_;
  std::string name_;
  std::string prefix_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_JSON_MIGRATION_H_
