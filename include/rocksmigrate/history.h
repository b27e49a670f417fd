// The history of a database's migrations (`_migration_history`): the
// states a step in flight passes through, the outcomes a step ends in, and
// one entry per step of every run (Migrator::History()).
#ifndef ROCKSMIGRATE_HISTORY_H_
#define ROCKSMIGRATE_HISTORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rocksmigrate/backup.h"

namespace rocksmigrate {

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
// How a rollback undoes an applied step: from the step's backup, or by
// running its migrations' down transforms (Migration::Down()) over its
// records. kAuto: the backup when it still exists, else the down transforms.
enum class RollbackMethod { kAuto, kBackup, kDown };
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
std::string ToString(RollbackMethod method);  // "auto", "backup", "down".

// How a step runs. Offline: nobody else writes the migrated prefixes while
// it runs. Online: a live server reads (through an UpgradingReader) and
// writes beside it; see MigratorOptions::online.
enum class RunMode { kOffline, kOnline };
std::string ToString(RunMode mode);

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
  // A rolled_back entry: true when the step was undone by its down
  // transforms, false when restored from its backup. A failed or aborted
  // entry: true when it records a down pass that did not finish (the
  // records it had changed were restored; the step stays applied). No other
  // entry carries it: reading one that does is FailedPrecondition.
  bool down = false;
  // Position in the history, 1 for the oldest entry. Not stored in the
  // entry itself (it is the entry's key).
  uint64_t sequence = 0;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_HISTORY_H_
