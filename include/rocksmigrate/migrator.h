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
#include "rocksmigrate/pacing.h"
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

// The states of a step in flight (`_migration_progress`), the reasons a
// step is being restored, and the outcomes the history records. The strings
// that stand for them in the database and in `--json` output come from
// ToString() and nowhere else.
enum class StepState {
  kMigrating,   // Records are being rewritten, batch by batch.
  kRollingBack, // Records are being restored from the step's backup.
};
enum class RestoreReason {
  kNone,       // Not restoring (StepState::kMigrating).
  kItemError,  // The step met an item error; it ends `failed`.
  kRollback,   // Rollback() asked for it; it ends `rolled_back`.
  kAbandon,    // Abandon() gave up the run in flight; it ends `aborted`.
};
enum class StepStatus {
  kSuccess,      // The step was applied.
  kFailed,       // An item error; restored (or, without backups, stopped).
  kRolledBack,   // Applied, then undone by Rollback().
  kInterrupted,  // Stopped by a stop request; resumable.
  kAborted,      // Abandoned while in flight; restored by Abandon().
  kStamped,      // `_schema_version` set without rewriting records (an
                 // empty database).
};
std::string ToString(StepState state);
std::string ToString(RestoreReason reason);
std::string ToString(StepStatus status);

// How a step runs. Offline: nobody else writes the migrated prefixes while
// it runs. Online: a live server reads (through an UpgradingReader) and
// writes beside it; see MigratorOptions::online.
enum class RunMode { kOffline, kOnline };
std::string ToString(RunMode mode);

// The column family name recorded for backups kept in the default one.
inline constexpr char kDefaultColumnFamilyName[] = "default";

// One entry of the history: one step of one run (SPEC §5), or one stamp.
struct HistoryEntry {
  std::string run_id;
  // A step: to == from + 1. A stamp may span several versions, either way.
  int from = 0;
  int to = 0;
  std::vector<std::string> migrations;
  StepStatus status = StepStatus::kSuccess;
  uint64_t items_migrated = 0;
  uint64_t items_skipped = 0;
  // Of the skipped, records whose schema_version was already above `to`.
  uint64_t items_ahead = 0;
  std::string started_at;  // ISO-8601 UTC.
  int64_t duration_ms = 0;
  std::optional<std::string> backup_id;
  // The column family that holds the backup (kDefaultColumnFamilyName or
  // the name of MigratorOptions::backup_column_family); empty when there is
  // no backup or the entry predates the field.
  std::string backup_column_family;
  std::optional<std::string> error;
  std::map<std::string, std::string> checksums;  // File name -> SHA-256.
  // Prefixes of the step under which no record existed when it started (a
  // likely typo in a migration's prefix).
  std::vector<std::string> empty_prefixes;
  // How the step ran (online steps keep digests of what they wrote beside
  // their backup, see MigratorOptions::online). kOffline for entries that
  // predate the field.
  RunMode mode = RunMode::kOffline;
  // Records a restore of an online step left as the server had rewritten
  // them (instead of putting the backup's bytes back), and the first of
  // their keys (raw bytes, at most 10).
  uint64_t items_kept = 0;
  std::vector<std::string> kept_keys;
  // Position in the history, 1 for the oldest entry. Not stored in the
  // entry itself (it is the entry's key).
  uint64_t sequence = 0;
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
  // The column family that holds it.
  std::string column_family = kDefaultColumnFamilyName;
  // False when the manifest's bytes cannot be read: only `id`,
  // `column_family` and `problem` are meaningful then.
  bool readable = true;
  std::string problem;
};

// What VerifyBackup() found.
struct BackupVerification {
  BackupInfo backup;
  // Records present under the backup's key range.
  uint64_t records_present = 0;
  // Records whose key lies outside the manifest's prefixes.
  uint64_t records_outside_prefixes = 0;
  // OK when the manifest is readable and complete, and its item count equals
  // the records present, all under its prefixes; DataLoss otherwise, with
  // what differs.
  absl::Status status;
};

// The `_migration_progress` cursor of a run in flight.
struct InFlight {
  std::string run_id;
  StepState state = StepState::kMigrating;
  RestoreReason reason = RestoreReason::kNone;
  int from = 0;
  int to = 0;
  std::optional<std::string> backup_id;
  std::string backup_column_family;  // See HistoryEntry.
  std::string prefix;
  std::string last_key;  // Raw bytes of the last committed key.
  uint64_t items_migrated = 0;
  uint64_t items_skipped = 0;
  uint64_t items_ahead = 0;
  uint64_t items_restored = 0;
  std::string started_at;
  std::optional<std::string> error;
  // For a rollback: the version it goes down to (it may span several steps).
  std::optional<int> rollback_target;
  // How the step runs (see HistoryEntry::mode).
  RunMode mode = RunMode::kOffline;
  // Of the records a restore visited, those it kept (see HistoryEntry).
  uint64_t items_kept = 0;
  std::vector<std::string> kept_keys;
  // Written with every committed batch (and whenever the pacing state
  // changes): when that was (ISO-8601 UTC, empty before the first batch),
  // the step's rate then (records per second), its estimated records (0
  // when unknown), and what holds the run back: empty when nothing does,
  // else e.g. "paused (flag file /srv/pause)", "throttled: write stall",
  // "rate limit 20000 records/s".
  std::string updated_at;
  uint64_t records_per_second = 0;
  uint64_t items_total_estimate = 0;
  std::string pacing;
};

// What any operation does first when it finds a run in flight (one
// dispatcher decides it for every entry point).
enum class InFlightAction {
  kResumeStep,       // migrating: continue the step after the cursor.
  kFinishFailure,    // restoring after an item error: finish, record failed.
  kFinishRollback,   // restoring for a rollback: finish it, down to its
                     // target, whatever operation found it.
  kFinishAbandon,    // restoring for Abandon(): finish, record aborted.
};
std::string ToString(InFlightAction action);

// A pending step, with the prefixes under which no record exists.
struct PendingStep {
  Step step;
  std::vector<std::string> empty_prefixes;
};

// What `status` shows. Inspect() reads only the bookkeeping keys (and one
// seek per pending prefix), never the records.
struct DatabaseState {
  // No user keys at all (SPEC §8.8): reserved keys do not count.
  bool empty = false;
  bool has_stored_version = false;
  // `_schema_version`, or the baseline when absent.
  int current_version = 0;
  // The newest registered version (the baseline when none is registered).
  int target_version = 0;
  // True if the stored version is newer than the newest registered.
  bool newer_than_supported = false;
  // Steps from current to target; empty when up to date or not plannable.
  std::vector<PendingStep> pending;
  // Set when the pending steps cannot be planned (a gap).
  absl::Status plan_status;
  std::optional<InFlight> in_flight;
  // What migrate (or any operation) would do first about `in_flight`.
  std::optional<InFlightAction> in_flight_action;
  // Not OK when the bookkeeping is inconsistent: every writing operation
  // refuses with this status (FailedPrecondition naming the key) until it is
  // repaired.
  absl::Status bookkeeping_status;
  // Entries in the history, and the newest few (oldest first).
  uint64_t history_total = 0;
  std::vector<HistoryEntry> recent_history;
  // The last writer of `_migration_lock` (informational).
  std::optional<std::string> last_lock_holder;
  bool up_to_date() const {
    return !in_flight && bookkeeping_status.ok() && plan_status.ok() &&
           pending.empty() && !newer_than_supported &&
           !(empty && !has_stored_version);
  }
};

struct RunReport {
  std::string run_id;
  int from_version = 0;
  int to_version = 0;
  // True if an empty database was stamped (or, by Rollback(), unstamped).
  bool stamped_empty = false;
  // True if the run first finished a run that a crash or signal left.
  bool resumed = false;
  // What was done about the run in flight, when there was one.
  std::optional<InFlightAction> in_flight_action;
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
  uint64_t items_ahead = 0;       // Of the skipped, above the step's version.
  uint64_t items_failed = 0;
  uint64_t bytes_to_write = 0;    // New values plus backups.
  std::vector<ItemFailure> first_failures;  // At most 10.
  // Prefixes under which no record exists.
  std::vector<std::string> empty_prefixes;
  // True for the step of a run in flight: only the records after its
  // cursor are scanned, as Migrate() would.
  bool resumes_in_flight = false;
};

struct DryRunReport {
  int from_version = 0;
  int to_version = 0;
  // What Migrate() would do first about a run in flight. When it would
  // finish a restore (every action but kResumeStep), Migrate() stops there,
  // so no step is simulated.
  std::optional<InFlightAction> in_flight_action;
  // Migrate() would stamp the empty database with `to_version`.
  bool would_stamp = false;
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
  // Records whose schema_version is above the version their prefix should
  // carry (written by a newer binary?): migrate skips them too. Reported,
  // not problems.
  uint64_t ahead_count = 0;
  std::vector<ValidationProblem> ahead;  // At most 100.
  bool ok() const { return problem_count == 0; }
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
  // to undo only the step in flight) from the backups the history names,
  // newest step first. Every backup is checked before the first write
  // (FailedPrecondition if a step has none, DataLoss if one does not hold
  // what its manifest says). A stamp is undone only while the database is
  // still empty.
  absl::StatusOr<RunReport> Rollback(int target);

  // Gives up the run in flight: restores the records of its step from the
  // step's backup and records the step as aborted (a restore already in
  // flight is finished instead, and a rollback stops after its current
  // step). FailedPrecondition when no run is in flight or the step has no
  // backup.
  absl::StatusOr<RunReport> Abandon();

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

  const MigratorOptions& options() const { return options_; }

 private:
  class Impl;
  explicit Migrator(std::unique_ptr<Impl> impl, MigratorOptions options);
  std::unique_ptr<Impl> impl_;
  MigratorOptions options_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_MIGRATOR_H_
