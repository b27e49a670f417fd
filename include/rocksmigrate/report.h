// What the migrator reports: the run in flight (`_migration_progress`),
// the database's state (Migrator::Inspect()), a run's report (Migrate(),
// Rollback(), Abandon()), a dry run's and a validation's.
#ifndef ROCKSMIGRATE_REPORT_H_
#define ROCKSMIGRATE_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rocksmigrate/history.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

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
  // A down pass: the applied step from -> to is being undone by its down
  // transforms (state migrating: records at `to` are rewritten to `from`,
  // each batch backed up first into backup_id; state rolling_back: that
  // pass met an item error or was abandoned and its backup is being put
  // back). The database stays at `to` until the pass finishes.
  bool down = false;
  // For a rollback: how it undoes its steps (RollbackMethod).
  RollbackMethod rollback_using = RollbackMethod::kAuto;
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
  kFinishRollback,   // restoring for a rollback (or undoing a step by its
                     // down transforms): finish it, down to its target,
                     // whatever operation found it.
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
  // DryRunRollback(): how the step (from -> to, to = from - 1 here) would be
  // undone (kBackup: items_to_migrate records restored from backup_id;
  // kDown: its down transforms simulated), and whether it was simulated.
  std::optional<RollbackMethod> undo_by;
  std::optional<std::string> backup_id;
  bool simulated = true;
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

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_REPORT_H_
