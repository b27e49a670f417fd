// The Migrator's private implementation, shared by migrator.cc (the
// preflight, runs, rollbacks and repairs), dry_run.cc and validate.cc.
//
// Every writing call has the same shape: a preflight reads the bookkeeping
// strictly, verifies it, and plans everything the call will do, writing
// nothing; then the lease is taken, the preflight runs again under it, and
// the plan is carried out through the transitions, each one atomic write.
#ifndef ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_
#define ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_

#include <optional>
#include <string>
#include <vector>

#include "rocksmigrate/migrator.h"
#include "src/backup_store.h"
#include "src/history_store.h"
#include "src/metadata.h"
#include "src/step_runner.h"

namespace rocksmigrate {

class Migrator::Impl {
 public:
  Impl(rocksdb::DB* db, const MigrationRegistry* registry,
       const MigratorOptions& options);

  // The bookkeeping as read, each key decoded strictly.
  struct Snapshot {
    std::optional<int> stored;  // `_schema_version`.
    int current = 0;            // stored, or the baseline.
    bool empty = false;         // No user keys at all.
    std::optional<Cursor> cursor;
    HistoryStore::Layout history;
  };
  absl::StatusOr<Snapshot> ReadSnapshot() const;
  int NewestVersion() const;
  // FailedPrecondition when the stored version is newer than supported.
  absl::Status CheckNotNewer(const Snapshot& snap) const;

  // One undo of a rollback: a step restored from its backup or undone by
  // its down transforms, or a stamp taken back (the database is empty).
  struct Undo {
    HistoryEntry entry;           // The entry undone (status success or
                                  // stamped).
    std::optional<BackupInfo> backup;  // For a step restored from it.
    bool down = false;                 // For a step undone by a down pass.
    bool unstamp() const { return entry.status == StepStatus::kStamped; }
  };

  // What Migrate() will do, as the preflight planned it.
  struct MigratePlan {
    Snapshot snap;
    int goal = 0;
    std::optional<InFlightAction> action;
    const Step* resume = nullptr;     // kResumeStep.
    std::vector<Undo> rollback_rest;  // kFinishRollback: the steps below.
    bool stamp = false;
    std::vector<Step> steps;          // After the step in flight.
  };
  struct RollbackPlan {
    Snapshot snap;
    int target = 0;
    RollbackMethod method = RollbackMethod::kAuto;
    std::optional<InFlightAction> action;
    std::vector<Undo> undos;  // After the step in flight, newest first.
  };

  // The preflights: every check that can refuse, no write.
  absl::StatusOr<MigratePlan> PreflightMigrate(std::optional<int> target) const;
  absl::StatusOr<RollbackPlan> PreflightRollback(int target,
                                                 RollbackMethod method) const;
  absl::StatusOr<Snapshot> PreflightAbandon() const;

  absl::StatusOr<DatabaseState> Inspect() const;
  absl::StatusOr<RunReport> Migrate(std::optional<int> target);
  absl::StatusOr<RunReport> Rollback(int target, RollbackMethod method);
  absl::StatusOr<DryRunReport> DryRunRollback(int target,
                                              RollbackMethod method) const;
  absl::StatusOr<RunReport> Abandon();
  absl::StatusOr<RunReport> Redo(bool force);
  absl::StatusOr<DryRunReport> DryRun(std::optional<int> target) const;
  absl::StatusOr<ValidationReport> Validate() const;
  absl::StatusOr<BackupVerification> VerifyBackup(const std::string& id) const;
  absl::Status DeleteBackup(const std::string& id, bool force);
  absl::StatusOr<std::vector<std::string>> PruneBackups(
      const RetentionPolicy& policy);
  absl::Status RemoveBookkeepingKey(const std::string& key);
  absl::Status SetSchemaVersion(int version);

  const MetaStore& meta() const { return meta_; }
  const HistoryStore& history() const { return history_; }
  const BackupStore& backups() const { return backups_; }
  const MigratorOptions& options() const { return options_; }

 private:
  // --- Checks (preflight.cc) ---
  // `_schema_version` against the newest history entry that set it.
  absl::Status VerifyVersionAgainstHistory(const Snapshot& snap) const;
  // The cursor against the version and its backup's manifest (ReadSnapshot
  // runs it).
  absl::Status VerifyCursor(const Snapshot& snap, const Cursor& cursor) const;
  // A migrating cursor against the registry: the step, the names and
  // checksums of its migrations, its prefix index and last key. Only
  // resuming needs this; restoring and abandoning do not.
  absl::Status VerifyResumable(const Cursor& cursor) const;
  // The undos that take the database from `from` down to `target`, each
  // verified (backup present, complete and whole; a stamp only while the
  // database is empty).
  absl::StatusOr<std::vector<Undo>> PlanUndos(int from, int target,
                                              bool empty,
                                              RollbackMethod method) const;
  // Why step from -> to, applied with `migrations` and `checksums`, cannot
  // be undone by the down transforms registered now (the step gone, its
  // migrations or files changed since, a migration without a down); empty
  // when it can.
  std::string DownProblem(int from, int to,
                          const std::vector<std::string>& migrations,
                          const std::map<std::string, std::string>& checksums)
      const;
  // A down pass in flight against the registry (DownProblem, its prefix
  // index and last key). FailedPrecondition naming what changed.
  absl::Status VerifyDownable(const Cursor& cursor) const;
  // The backup of `cursor`, checked to hold exactly the records it backed
  // up. DataLoss otherwise.
  absl::StatusOr<BackupInfo> VerifiedBackupOf(const Cursor& cursor) const;
  absl::Status CheckDiskSpace(const std::vector<Step>& steps) const;

  // --- Transitions (migrator.cc), each one atomic write ---
  struct Outcome {
    StepStatus status = StepStatus::kSuccess;
    std::optional<int> version;
    enum class CursorChange { kKeep, kDelete, kReplace } cursor_change =
        CursorChange::kDelete;
    enum class BackupChange { kNone, kComplete, kDelete } backup_change =
        BackupChange::kNone;
    // Stamps undone in the same write (a rollback reaching them).
    std::vector<HistoryEntry> unstamps;
    // kReplace: the next cursor (a rollback's next step), and the manifest
    // of the backup it takes when it is a down pass.
    std::optional<Cursor> next;
    std::optional<BackupInfo> next_manifest;
  };
  // Records the outcome of the step of `cursor` (history entry, cursor,
  // manifest, version) in one atomic write; returns the entry written and
  // updates cursor->history_seq.
  absl::StatusOr<HistoryEntry> RecordOutcome(Cursor* cursor,
                                             const Outcome& outcome,
                                             std::string_view what);
  absl::StatusOr<Cursor> StartStep(const Step& step, const std::string& run_id);
  // Records a step that stays in flight (interrupted, or failed without a
  // restore) with its cursor, in one write.
  absl::Status RecordPause(Cursor* cursor, StepStatus status,
                           RunReport* report);
  absl::Status BeginRestore(Cursor* cursor, RestoreReason reason,
                            std::optional<int> rollback_target);
  absl::Status Stamp(int from, int to, const std::string& run_id,
                     RunReport* report);
  // The cursor that starts undoing `undo` (a step) down to `target`; for a
  // down pass, with the manifest of the backup it takes (`manifest`), to be
  // written with it.
  absl::StatusOr<Cursor> RollbackCursor(const Undo& undo, int target,
                                        RollbackMethod method,
                                        std::optional<BackupInfo>* manifest) const;
  // The first cursor of what remains after `cursor`'s step in a rollback:
  // stamps undone at the top of `rest` go into `o->unstamps` (and move
  // `*version`), the next step's cursor into `o->next`. Returns how many of
  // `rest` it took.
  absl::StatusOr<size_t> PlanNext(const Cursor& cursor,
                                  const std::vector<Undo>& rest, Outcome* o,
                                  int* version) const;
  absl::Status ConvertLegacyHistory();

  // --- Phases (migrator.cc) ---
  // Runs the migrating phase of `cursor` to its end and records it.
  absl::Status ContinueStep(const Step& step, Cursor cursor,
                            RunReport* report);
  // Runs a restore to its end and records it; a rollback then goes on with
  // `rest` (the undos below it).
  absl::Status FinishRestore(Cursor cursor, std::vector<Undo> rest,
                             RunReport* report);

  // Runs a down pass (src/down_pass.cc) to its end and records it: the
  // step rolled_back, or, after an item error, its records restored and a
  // failed entry. On success returns the next undo's cursor (and drops the
  // undos taken from `rest`), or nullopt when the rollback is done.
  absl::StatusOr<std::optional<Cursor>> ContinueDown(Cursor cursor,
                                                     std::vector<Undo>* rest,
                                                     RunReport* report);

  // FinishRestore() for a rollback, returning the report.
  absl::StatusOr<RunReport> FinishRollback(Cursor cursor,
                                           std::vector<Undo> rest,
                                           RunReport* report);
  std::string NewRunId() const;
  int64_t MillisSince(absl::Time t) const;
  HistoryEntry EntryFor(const Cursor& cursor, StepStatus status) const;

  rocksdb::DB* db_;
  const MigrationRegistry* registry_;
  MigratorOptions options_;
  MetaStore meta_;
  HistoryStore history_;
  BackupStore backups_;
  StepEnv env_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_
