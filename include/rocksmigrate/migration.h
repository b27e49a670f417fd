// The migration interface: one record type's values under one key prefix,
// turned from schema version `from()` to `to()` (always from() + 1).
#ifndef ROCKSMIGRATE_MIGRATION_H_
#define ROCKSMIGRATE_MIGRATION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace rocksmigrate {

// What a migration decided for one record.
class ItemResult {
 public:
  enum class Kind {
    kWrite,   // Replace the value with value(); the original is backed up.
    kKeep,    // Leave the record alone: no write, no backup ("skipped").
    kDelete,  // Delete the record; the original is backed up.
  };

  static ItemResult Write(std::string new_value) {
    return ItemResult(Kind::kWrite, std::move(new_value));
  }
  static ItemResult Keep() { return ItemResult(Kind::kKeep, {}); }
  // Keep, because the record is already past this migration's version
  // (written by a newer binary?): counted apart in the history
  // (`items_ahead`) so that it shows.
  static ItemResult KeepNewer() {
    ItemResult r(Kind::kKeep, {});
    r.newer_ = true;
    return r;
  }
  static ItemResult Delete() { return ItemResult(Kind::kDelete, {}); }

  Kind kind() const { return kind_; }
  // True for KeepNewer().
  bool newer() const { return newer_; }
  // The new value. REQUIRES: kind() == kWrite.
  const std::string& value() const { return value_; }
  std::string&& release_value() { return std::move(value_); }

 private:
  ItemResult(Kind kind, std::string value)
      : kind_(kind), value_(std::move(value)) {}
  Kind kind_;
  std::string value_;
  bool newer_ = false;
};

// A migration of the records under one key prefix from one schema version to
// the next. Implementations must be stateless with respect to Migrate():
// the migrator may call it from several threads at once, on any record, more
// than once for the same record (after a crash, or in a dry run).
//
// Thread-safety: Migrate() must be safe to call concurrently.
class Migration {
 public:
  virtual ~Migration() = default;

  // The schema version the records are at before this migration.
  virtual int from() const = 0;
  // The schema version after it. The registry requires to() == from() + 1.
  virtual int to() const = 0;
  // A short identifier, shown in history and status ("task_add_dependencies").
  virtual std::string name() const = 0;
  // The key prefix whose records this migration rewrites ("task:"). Must not
  // start with '_' (reserved). An empty prefix means every non-reserved key.
  virtual std::string prefix() const = 0;

  // Decides one record. Returns the new value, Keep (already migrated or
  // nothing to do), Delete, or an error Status (an "item error": the step is
  // stopped and rolled back). An exception thrown from here is caught by the
  // migrator and treated as an item error.
  virtual absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                             std::string_view value) const = 0;

  // Optional: the down transform, which `rollback` uses when the step's
  // backup is gone (or when asked to, RollbackMethod::kDown). Given a record
  // as Migrate() left it (at to()), returns its value at from(): Write,
  // Keep (already at from(), or nothing to undo), KeepNewer (above to()),
  // Delete, or an error status (an item error: the down pass is restored
  // from the backup it takes and the step stays applied). Same threading
  // contract as Migrate(). A migration that implements it returns true from
  // has_down(); the default has none.
  //
  // A down is exact only when the up step lost nothing: a removed field, a
  // narrowed value or a deleted record cannot be brought back by Down() —
  // only the backup holds those bytes.
  virtual bool has_down() const { return false; }
  virtual absl::StatusOr<ItemResult> Down(std::string_view /*key*/,
                                          std::string_view /*value*/) const {
    return absl::UnimplementedError(
        absl::StrCat("migration ", name(), " has no down transform"));
  }

  // True if the records are JSON objects carrying `schema_version`; lets
  // `validate` check them. Default: false.
  virtual bool records_are_json() const { return false; }

  // For migrations loaded from a file: the file's name and SHA-256 (hex),
  // recorded in the history. Default: empty (a C++ migration).
  virtual std::string source_file() const { return {}; }
  virtual std::string checksum() const { return {}; }
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_MIGRATION_H_
