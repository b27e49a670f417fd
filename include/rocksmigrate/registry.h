// The set of known migrations and the planner that chains them.
#ifndef ROCKSMIGRATE_REGISTRY_H_
#define ROCKSMIGRATE_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksmigrate/migration.h"

namespace rocksmigrate {

// One version increment, from -> from + 1, with the migrations that make it:
// at most one per prefix, ordered by prefix.
struct Step {
  int from = 0;
  int to = 0;
  std::vector<const Migration*> migrations;

  // "v1 -> v2".
  std::string Describe() const;
};

// Holds migrations and plans paths between versions.
//
// Register() rejects a definition error at once: to != from + 1, a version
// below 0, a prefix starting with '_' (reserved), a second migration for the
// same step and prefix, or two prefixes in one step where one is a prefix of
// the other (their records would be migrated twice). Since every migration
// goes up by exactly one, the graph cannot hold a cycle.
//
// Thread-safety: Register() is not thread-safe; the const methods are.
class MigrationRegistry {
 public:
  MigrationRegistry() = default;
  MigrationRegistry(const MigrationRegistry&) = delete;
  MigrationRegistry& operator=(const MigrationRegistry&) = delete;

  // Takes ownership. Returns InvalidArgument on a definition error (above).
  absl::Status Register(std::unique_ptr<Migration> migration);

  bool empty() const { return steps_.empty(); }
  // The lowest `from` and highest `to` registered. REQUIRES: !empty().
  int oldest_version() const;
  int newest_version() const;
  // The version the steps lead to: newest_version(), else the oldest
  // supported version, else `fallback` (the baseline of a database without
  // `_schema_version`).
  int target_version(int fallback) const;

  // The supported-version window (a squash: the migrations below `version`
  // were deleted from this binary). A database below it is refused by
  // planning, and so by every call that would write and by Inspect()'s
  // plan_status: FailedPrecondition naming both versions and `upgrade_hint`
  // (e.g. "upgrade through release 2.4 first"); nothing is written. An
  // empty database is stamped as usual. InvalidArgument when `version` < 1
  // or a registered migration starts below it; Register() refuses such a
  // migration afterwards. The migrations directory sets it from its
  // baseline.json (README "Squashing old migrations").
  absl::Status SetOldestSupportedVersion(int version,
                                         std::string upgrade_hint = "");
  // 0 when no window is set.
  int oldest_supported_version() const { return oldest_supported_; }

  // The steps that take the records from `from` to `to` (from < to), in order.
  // Returns InvalidArgument naming the missing step when the chain has a gap,
  // including when no registered migration starts at `from`, and
  // FailedPrecondition when `from` is below the oldest supported version.
  absl::StatusOr<std::vector<Step>> PlanPath(int from, int to) const;

  // The step from -> from + 1, or nullptr.
  const Step* FindStep(int from) const;

  // Every registered step, in version order.
  std::vector<const Step*> steps() const;

  // Every distinct prefix, sorted.
  std::vector<std::string> prefixes() const;

 private:
  std::vector<std::unique_ptr<Migration>> owned_;
  std::map<int, Step> steps_;  // Keyed by `from`.
  int oldest_supported_ = 0;
  std::string upgrade_hint_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_REGISTRY_H_
