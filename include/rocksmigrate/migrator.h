// The migrator: drives one RocksDB database from its stored schema version to
// a target version, with backups, crash-resumable progress and rollback.
#ifndef ROCKSMIGRATE_MIGRATOR_H_
#define ROCKSMIGRATE_MIGRATOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

// Reported through MigratorOptions::on_progress after every committed batch.
struct Progress {
  enum class Phase { kMigrating, kRollingBack, kDryRun };
  Phase phase = Phase::kMigrating;
  int step_from = 0;
  int step_to = 0;
  std::string prefix;
  // Records visited in this step so far (migrated + skipped; for a rollback,
  // records restored).
  uint64_t items_done = 0;
  // Estimated records in the step (from RocksDB's size estimates; never less
  // than items_done). 0 when unknown.
  uint64_t items_total_estimate = 0;
  double items_per_second = 0;
  // Estimated seconds to the end of the step; negative when unknown.
  double eta_seconds = -1;
  absl::Duration elapsed;
};

struct MigratorOptions {
  // The version of a database that has records but no `_schema_version`.
  // Default: 1.
  int baseline_version = 1;
  // A batch is committed when it holds this many affected records...
  // Default: 1000.
  size_t batch_items = 1000;
  // ...or this many bytes of keys and values (backups included). A record
  // larger than this is committed alone. Default: 4 MiB.
  size_t batch_bytes = 4 << 20;
  // Back up every changed record before it is rewritten. Without backups an
  // item error stops the step where it is and the step cannot be rolled back
  // (SPEC §8.5). Default: true.
  bool backup = true;
  // Threads that transform records, beside the thread that reads and the one
  // that commits. 0 means the number of cores. Default: 0.
  int threads = 0;
  // Where backups and their manifests live. nullptr: the default column
  // family. The handle must belong to `db`. Default: nullptr.
  rocksdb::ColumnFamilyHandle* backup_column_family = nullptr;
  // Set when a live server writes to the migrated prefixes during the run
  // (REQUIRES a rocksdb::TransactionDB): each batch is then one pessimistic
  // transaction that locks each record with GetForUpdate and migrates the
  // value it holds at that moment, so no concurrent update is lost. Slower.
  // When false, batches are written without per-key locks: the caller
  // promises that no one else writes the migrated prefixes during the run.
  // Default: false.
  bool concurrent_writers = false;
  // How long to wait for another migrator of the same database to finish.
  // 0: fail at once. Default: 0.
  absl::Duration lock_wait = absl::ZeroDuration();
  // Called after every committed batch (and every dry-run batch), on the
  // thread that called Migrate()/Rollback()/DryRun(). Default: none.
  std::function<void(const Progress&)> on_progress;
  // Polled at every batch boundary; when it reads true the run stops,
  // leaving a resumable state, and returns Cancelled. Default: none.
  const std::atomic<bool>* stop_requested = nullptr;
  // The clock for backup ids, history times and rates. Default: absl::Now.
  std::function<absl::Time()> clock;
};

// One entry of `_migration_history`: one step of one run (SPEC §5).
struct HistoryEntry {
  std::string run_id;
  int from = 0;
  int to = 0;
  std::vector<std::string> migrations;
  // "success" | "failed" | "rolled_back" | "interrupted".
  std::string status;
  uint64_t items_migrated = 0;
  uint64_t items_skipped = 0;
  std::string started_at;  // ISO-8601 UTC.
  int64_t duration_ms = 0;
  std::optional<std::string> backup_id;
  std::optional<std::string> error;
  std::map<std::string, std::string> checksums;  // File name -> SHA-256.
};

// A backup's manifest (`_backup_<id>`).
struct BackupInfo {
  std::string id;  // "_backup_20261127_050102" or "..._2".
  int from = 0;
  int to = 0;
  std::string created_at;  // ISO-8601 UTC.
  std::vector<std::string> prefixes;
  uint64_t item_count = 0;
  bool complete = false;
  std::string run_id;
};

// The `_migration_progress` cursor of a run in flight.
struct InFlight {
  std::string run_id;
  // "migrating" or "rolling_back".
  std::string state;
  // Why it is rolling back: "item_error" (the step failed) or "rollback"
  // (asked for). Empty while migrating.
  std::string reason;
  int from = 0;
  int to = 0;
  std::optional<std::string> backup_id;
  std::string prefix;
  std::string last_key;  // Raw bytes of the last committed key.
  uint64_t items_migrated = 0;
  uint64_t items_skipped = 0;
  std::string started_at;
  std::optional<std::string> error;
};

// What `status` shows.
struct DatabaseState {
  // No user keys under any registered prefix (SPEC §8.8).
  bool empty = false;
  bool has_stored_version = false;
  // `_schema_version`, or the baseline when absent.
  int current_version = 0;
  // The newest registered version (the baseline when none is registered).
  int target_version = 0;
  // True if the stored version is newer than the newest registered.
  bool newer_than_supported = false;
  // Steps from current to target; empty when up to date or not plannable.
  std::vector<Step> pending;
  // Set when the pending steps cannot be planned (a gap).
  absl::Status plan_status;
  std::optional<InFlight> in_flight;
  // The last writer of `_migration_lock` (informational).
  std::optional<std::string> last_lock_holder;
  bool up_to_date() const {
    return !in_flight && plan_status.ok() && pending.empty() &&
           !newer_than_supported && !(empty && !has_stored_version);
  }
};

struct RunReport {
  std::string run_id;
  int from_version = 0;
  int to_version = 0;
  // True if an empty database was stamped with the target version.
  bool stamped_empty = false;
  // True if the run first finished a run that a crash or signal left.
  bool resumed = false;
  std::vector<HistoryEntry> steps;
};

struct ItemFailure {
  std::string key;  // Raw bytes.
  std::string message;
};

struct DryRunStep {
  int from = 0;
  int to = 0;
  std::vector<std::string> migrations;
  uint64_t items_to_migrate = 0;  // Would be rewritten (or deleted).
  uint64_t items_to_delete = 0;   // Of those, deleted.
  uint64_t items_skipped = 0;
  uint64_t items_failed = 0;
  uint64_t bytes_to_write = 0;    // New values plus backups.
  std::vector<ItemFailure> first_failures;  // At most 10.
};

struct DryRunReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<DryRunStep> steps;
  uint64_t records_scanned = 0;
  absl::Duration elapsed;
  // The scan and transform time measured here plus an estimate of the write
  // time from the bytes to write. A rough guide, not a promise.
  absl::Duration estimated_duration;
  bool would_fail() const {
    for (const auto& s : steps)
      if (s.items_failed > 0) return true;
    return false;
  }
};

struct ValidationProblem {
  std::string key;   // Raw bytes; empty for a file problem.
  std::string file;  // Empty for a record problem.
  std::string message;
};

struct ValidationReport {
  uint64_t records_checked = 0;
  uint64_t problem_count = 0;
  std::vector<ValidationProblem> problems;  // At most 100.
  bool ok() const { return problem_count == 0; }
};

// Drives one database. Status codes (the admin tool maps them to exit codes):
//   InvalidArgument    bad definitions or arguments; nothing written.
//   FailedPrecondition schema newer than supported, unreadable metadata, or
//                      a state that forbids the call; nothing written.
//   Unavailable        another migrator holds the database.
//   Cancelled          stopped by `stop_requested`; resumable.
//   Aborted            an item error; the step was restored (message names
//                      the key).
//   others             I/O errors and corruption from RocksDB.
//
// Thread-safety: one Migrator per database; its methods must not be called
// concurrently. Two Migrators on one database (in one process) exclude each
// other through a lease; RocksDB's LOCK file excludes other processes.
class Migrator {
 public:
  // `db` may be a rocksdb::TransactionDB; it and `registry` must outlive the
  // Migrator. Reads nothing yet.
  static absl::StatusOr<std::unique_ptr<Migrator>> Create(
      rocksdb::DB* db, const MigrationRegistry* registry,
      MigratorOptions options = {});
  ~Migrator();

  // Reads the state; writes nothing.
  absl::StatusOr<DatabaseState> Inspect() const;

  // Finishes a run left in flight, then applies the pending steps up to
  // `target` (default: the newest registered version). An empty database is
  // stamped with the target. Returns FailedPrecondition, writing nothing, if
  // the stored version is newer than `target`'s chain supports; use
  // Rollback() to go down.
  absl::StatusOr<RunReport> Migrate(std::optional<int> target = std::nullopt);

  // Plans, scans and transforms every pending step (each on the output of the
  // one before), writes nothing.
  absl::StatusOr<DryRunReport> DryRun(
      std::optional<int> target = std::nullopt) const;

  // Restores the database to `target` (< current version) from the backups
  // the history names, newest step first. FailedPrecondition if a step has
  // no backup.
  absl::StatusOr<RunReport> Rollback(int target);

  absl::StatusOr<std::vector<HistoryEntry>> History() const;
  absl::StatusOr<std::vector<BackupInfo>> ListBackups() const;
  // Deletes a backup (manifest and records, one range delete).
  // FailedPrecondition if a run in flight uses it; NotFound if absent.
  absl::Status DeleteBackup(const std::string& id);
  // Keeps the `keep` newest backups, deletes the others; returns their ids.
  absl::StatusOr<std::vector<std::string>> PruneBackups(size_t keep);

  // Checks that every record under a migrated prefix parses and carries the
  // version of the newest applied step that migrated its prefix.
  absl::StatusOr<ValidationReport> Validate() const;

  const MigratorOptions& options() const { return options_; }

 private:
  class Impl;
  explicit Migrator(std::unique_ptr<Impl> impl, MigratorOptions options);
  std::unique_ptr<Impl> impl_;
  MigratorOptions options_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_MIGRATOR_H_
