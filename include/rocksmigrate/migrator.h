// The migrator: drives one RocksDB database from its stored schema version to
// a target version, with backups, crash-resumable progress and rollback.
// Its options and progress live here; what it reads and reports lives in
// history.h (steps and their outcomes), backup.h (backups and retention) and
// report.h (state, run, dry-run and validation reports).
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
#include "rocksmigrate/backup.h"
#include "rocksmigrate/history.h"
#include "rocksmigrate/pacing.h"
#include "rocksmigrate/registry.h"
#include "rocksmigrate/report.h"

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
  // Batches this call committed in the step so far, and the bytes of keys
  // and values they wrote (new values, backups and bookkeeping; for a
  // restore, the records put back). Not counted by a dry run.
  uint64_t batches = 0;
  uint64_t bytes_written = 0;
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
  // Where new backups and their manifests go. nullptr: the default column
  // family (the admin tool's default too). The handle must belong to `db`.
  // Each step records the name of its backup's column family, and readers
  // look for a backup there. Default: nullptr.
  rocksdb::ColumnFamilyHandle* backup_column_family = nullptr;
  // Other column families of `db` that may hold backups of earlier steps
  // (made with another backup_column_family). A step whose backup lives in a
  // column family the Migrator has no handle for cannot be rolled back and
  // says so. Default: none.
  std::vector<rocksdb::ColumnFamilyHandle*> column_families;
  // Set when a live server writes to the migrated prefixes during the run
  // (REQUIRES a rocksdb::TransactionDB): each batch is then one pessimistic
  // transaction that locks each record with GetForUpdate and migrates the
  // value it holds at that moment, so no concurrent update is lost. Slower.
  // When false, batches are written without per-key locks: the caller
  // promises that no one else writes the migrated prefixes during the run.
  // Default: false.
  bool concurrent_writers = false;
  // Online mode (README "Zero-downtime migration"): the step runs beside a
  // live server that reads through an UpgradingReader and writes records at
  // the new version. Implies concurrent_writers (REQUIRES a TransactionDB).
  // Beside each backed-up record the step also keeps a digest of the value
  // it wrote, so that a restore (an item error, Abandon(), Rollback()) puts
  // the original back only where the record still holds the migrator's
  // bytes, and keeps every record the server rewrote since (counted as
  // items_kept). The mode is recorded in the cursor and the history.
  // Default: false.
  bool online = false;
  // Paces the batches (rate limits, write-stall backoff, pause file, busy
  // callback); shared so that a server can change it while the run goes
  // on. nullptr: an online run gets a Pacer with default PacingOptions, an
  // offline run is not paced. Default: nullptr.
  std::shared_ptr<Pacer> pacer;
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

// What a refusal or failure is about, for a tool that adds its own hints
// (the engine's messages name keys, files and states, never commands):
// the bookkeeping key, backup id or migration file the status names, and
// whether giving up the run in flight (Abandon) is a way out. Empty for
// other statuses.
struct StatusSubject {
  std::string bookkeeping_key;
  std::string backup_id;
  std::string migration_file;
  bool abandon_helps = false;
};
StatusSubject SubjectOf(const absl::Status& status);

// Drives one database. Status codes (the admin tool maps them to exit codes):
//   InvalidArgument    bad definitions, options or arguments; nothing
//                      written.
//   FailedPrecondition refused: schema newer than supported, bookkeeping
//                      unreadable or inconsistent (the message names the
//                      key), a migration changed under a run in flight, or a
//                      state that forbids the call; nothing written.
//   Unavailable        another migrator holds the database.
//   Cancelled          stopped by `stop_requested`; resumable.
//   Aborted            the run stopped at a completed version without
//                      reaching its target: an item error (the step was
//                      restored; the message names the key), or a restore
//                      found in flight was finished first (a rollback or an
//                      abandon), which the message says.
//   DataLoss           a backup does not hold what its manifest says;
//                      nothing more was changed.
//   ResourceExhausted  not enough disk space for the step; nothing written.
//   others             I/O errors from RocksDB; the committed batches stand
//                      and the run resumes.
//
// Every writing call runs one preflight before its first write: every check
// that can refuse (options, definitions, bookkeeping, the migrations of a
// run in flight, backups a rollback needs, disk space) runs there.
//
// Thread-safety: one Migrator per database; its methods must not be called
// concurrently. Two Migrators on one database (in one process) exclude each
// other through a lease; RocksDB's LOCK file excludes other processes.
class Migrator {
 public:
  // `db` may be a rocksdb::TransactionDB; it and `registry` must outlive the
  // Migrator. Reads nothing yet. InvalidArgument for an option that cannot
  // work (zero batch bounds, a negative baseline, concurrent_writers on a
  // plain DB, a column family handle of another database).
  static absl::StatusOr<std::unique_ptr<Migrator>> Create(
      rocksdb::DB* db, const MigrationRegistry* registry,
      MigratorOptions options = {});
  ~Migrator();

  // Reads the state; writes nothing. An inconsistent bookkeeping key does
  // not fail the call: it is reported in DatabaseState::bookkeeping_status.
  absl::StatusOr<DatabaseState> Inspect() const;

  // Finishes a run left in flight, then applies the pending steps up to
  // `target` (default: the newest registered version). An empty database is
  // stamped with the target (and the stamp recorded in the history). A
  // restore found in flight (a rollback, an abandon, an item error) is
  // finished and the call returns Aborted without migrating up. Returns
  // FailedPrecondition, writing nothing, if the stored version is newer than
  // supported; InvalidArgument if `target` is below the current version.
  absl::StatusOr<RunReport> Migrate(std::optional<int> target = std::nullopt);

  // Reports what Migrate(target) would do: the run in flight, the stamp, and
  // every pending step simulated (each on the output of the one before).
  // Writes nothing.
  absl::StatusOr<DryRunReport> DryRun(
      std::optional<int> target = std::nullopt) const;

  // Restores the database to `target` (< current version, or == current
  // to undo only the step in flight), newest step first: each applied step
  // from the backup the history names, or, when that backup is gone (or
  // `method` is kDown), by its migrations' down transforms (Migration::
  // Down()). Every backup is checked and every down checked to be the one
  // applied (the step's migrations and file checksums unchanged, each with
  // a down) before the first write: FailedPrecondition if a step can be
  // undone neither way, DataLoss if a backup does not hold what its
  // manifest says. A down pass backs up what it rewrites: an item error in
  // it restores those records and leaves the step applied (Aborted). Each
  // entry in the report says how its step was undone (HistoryEntry::down).
  // A stamp is undone only while the database is still empty.
  absl::StatusOr<RunReport> Rollback(
      int target, RollbackMethod method = RollbackMethod::kAuto);

  // Reports what Rollback(target, method) would do: each step it undoes,
  // how, and for a down pass the records its down transforms would
  // rewrite, keep and fail on (simulated on the records as they are; a down
  // pass below a backup restore is not simulated). Writes nothing.
  absl::StatusOr<DryRunReport> DryRunRollback(
      int target, RollbackMethod method = RollbackMethod::kAuto) const;

  // Gives up the run in flight: restores the records of its step from the
  // step's backup and records the step as aborted (a restore already in
  // flight is finished instead, and a rollback stops after its current
  // step). FailedPrecondition when no run is in flight or the step has no
  // backup.
  absl::StatusOr<RunReport> Abandon();

  // For development: rolls the newest applied step (vN-1 -> vN) back from
  // its backup and applies it again with the migrations registered now, as
  // two operations with their own history entries (rolled_back, then
  // success). FailedPrecondition, writing nothing, when a run is in flight,
  // when the database is not at the version of its newest step, when the
  // step is no longer registered, or when its migrations are unchanged
  // since it was applied (names and file checksums) and `force` is false;
  // the refusals of Rollback() (no backup, a backup that does not hold what
  // its manifest says) too. A failure of the re-apply leaves the database
  // at vN-1 (an item error restored), and the message says so.
  absl::StatusOr<RunReport> Redo(bool force = false);

  // The history, oldest first. Holds every entry in memory: prefer
  // ForEachHistoryEntry() or RecentHistory() for a long history.
  absl::StatusOr<std::vector<HistoryEntry>> History() const;
  // Calls `fn` for every entry, oldest first, reading one at a time; stops
  // early (OK) when `fn` returns false.
  absl::Status ForEachHistoryEntry(
      const std::function<bool(const HistoryEntry&)>& fn) const;
  // The newest `n` entries, oldest first, without reading the others.
  absl::StatusOr<std::vector<HistoryEntry>> RecentHistory(size_t n) const;

  // Every manifest in every column family this Migrator knows, oldest
  // first. An unreadable manifest is listed with readable == false.
  absl::StatusOr<std::vector<BackupInfo>> ListBackups() const;
  // Counts a backup's records and checks them against its manifest; writes
  // nothing. NotFound if there is no such backup.
  absl::StatusOr<BackupVerification> VerifyBackup(const std::string& id) const;
  // Deletes a backup (manifest and records, one range delete).
  // FailedPrecondition if a run in flight uses it, or if its manifest is
  // unreadable and `force` is false; NotFound if absent.
  absl::Status DeleteBackup(const std::string& id, bool force = false);
  // Keeps the `keep` newest readable backups, deletes the older ones (never
  // the one of a run in flight, never an unreadable one); returns their ids.
  absl::StatusOr<std::vector<std::string>> PruneBackups(size_t keep);

  // Repair: deletes one bookkeeping key that cannot be trusted:
  // `_schema_version`, `_migration_progress`, `_migration_lock`,
  // `_migration_history` (the whole history) or one history entry key.
  // For a run in flight whose cursor is deleted, the records it committed
  // stay as they are (see the README's repair section). InvalidArgument for
  // any other key, NotFound if absent.
  absl::Status RemoveBookkeepingKey(const std::string& key);
  // Repair: sets `_schema_version` to `version`, recorded in the history as
  // a stamp. Refused while a run is in flight.
  absl::Status SetSchemaVersion(int version);

  // Checks that every record under a migrated prefix parses and carries the
  // version of the newest applied step that migrated its prefix.
  absl::StatusOr<ValidationReport> Validate() const;

  // Backup retention: deletes the readable backups `policy` lets go
  // (see RetentionPolicy), oldest first, never the one of a run in flight
  // nor an unreadable one; returns their ids.
  absl::StatusOr<std::vector<std::string>> PruneBackups(
      const RetentionPolicy& policy);

 private:
  class Impl;
  explicit Migrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_MIGRATOR_H_
