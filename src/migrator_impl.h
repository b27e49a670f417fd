// The Migrator's private implementation, shared by migrator.cc (runs and
// rollbacks), dry_run.cc and validate.cc.
#ifndef ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_
#define ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_

#include <optional>
#include <string>
#include <vector>

#include "rocksmigrate/migrator.h"
#include "src/backup_store.h"
#include "src/metadata.h"
#include "src/step_runner.h"

namespace rocksmigrate {

class Migrator::Impl {
 public:
  Impl(rocksdb::DB* db, const MigrationRegistry* registry,
       const MigratorOptions& options);

  // What the database holds now.
  struct State {
    std::optional<int> stored;  // `_schema_version`.
    int current = 0;            // stored, or the baseline.
    bool empty = false;         // No user records under registered prefixes.
    std::optional<Cursor> cursor;
  };
  absl::StatusOr<State> ReadState() const;
  int NewestVersion() const;
  // FailedPrecondition when the stored version is newer than supported.
  absl::Status CheckNotNewer(const State& state) const;

  absl::StatusOr<DatabaseState> Inspect() const;
  absl::StatusOr<RunReport> Migrate(std::optional<int> target);
  absl::StatusOr<RunReport> Rollback(int target);
  absl::StatusOr<DryRunReport> DryRun(std::optional<int> target) const;
  absl::StatusOr<ValidationReport> Validate() const;
  absl::Status DeleteBackup(const std::string& id);
  absl::StatusOr<std::vector<std::string>> PruneBackups(size_t keep);

  const MetaStore& meta() const { return meta_; }
  const BackupStore& backups() const { return backups_; }

 private:
  std::string NewRunId() const;
  int64_t MillisSince(absl::Time t) const;
  // Finishes the run a crash or signal left in `cursor`. For an item error
  // left mid-restore, returns the step's Aborted error once restored.
  absl::Status FinishInFlight(Cursor cursor, RunReport* report);
  absl::Status RunStep(const Step& step, const std::string& run_id,
                       int target, RunReport* report);
  absl::Status ContinueStep(const Step& step, Cursor cursor,
                            RunReport* report);
  // Turns the migrating step of `cursor` into a restore from its backup
  // (`reason`: "item_error" or "rollback") and commits that state.
  absl::Status BeginRestore(Cursor* cursor, const std::string& reason);
  // Restores the failed step of `cursor` and records it as failed.
  absl::Status RestoreAndFail(Cursor cursor);
  // Restores the step of `cursor` (a rollback) and records it rolled back.
  absl::Status FinishRollbackStep(Cursor cursor, RunReport* report);
  HistoryEntry EntryFor(const Cursor& cursor, const std::string& status,
                        int64_t duration_ms) const;

  rocksdb::DB* db_;
  const MigrationRegistry* registry_;
  MigratorOptions options_;
  MetaStore meta_;
  BackupStore backups_;
  StepEnv env_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_MIGRATOR_IMPL_H_
