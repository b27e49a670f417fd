// The two record-moving phases of a step (docs/state-machine.md): migrating
// (backups + new values + cursor, batch by batch) and rolling back
// (originals back from a backup + cursor, batch by batch). The transitions
// between states are the StepMachine's.
#ifndef ROCKSMIGRATE_SRC_STEP_RUNNER_H_
#define ROCKSMIGRATE_SRC_STEP_RUNNER_H_

#include <string>

#include "absl/status/status.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "src/backup_store.h"
#include "src/metadata.h"

namespace rocksmigrate {

struct StepEnv {
  const MetaStore* meta = nullptr;
  const BackupStore* backups = nullptr;
  // With clock set and threads resolved (> 0).
  const MigratorOptions* options = nullptr;
};

// How a phase ended. Typed, so that no status code carries two meanings.
struct StepResult {
  enum class Kind {
    kDone,       // Every record of the phase is committed.
    kItemError,  // A record could not be migrated; nothing of its batch was
                 // written. `message` names the key, the migration and the
                 // step.
    kStopped,    // MigratorOptions::stop_requested was seen at a batch
                 // boundary; `message` says where.
    kFailed,     // A read or write error (`status`); the committed batches
                 // stand.
  };
  Kind kind = Kind::kDone;
  std::string message;
  absl::Status status;

  static StepResult Done() { return {}; }
  static StepResult ItemError(std::string m) {
    return {Kind::kItemError, std::move(m), {}};
  }
  static StepResult Stopped(std::string m) {
    return {Kind::kStopped, std::move(m), {}};
  }
  static StepResult Failed(absl::Status s) {
    return {Kind::kFailed, {}, std::move(s)};
  }
};

// Migrates the records of `step` from where `cursor` (state migrating)
// says, committing one atomic, synced write per batch: the batch's backups
// (when cursor->backup, into `backup_cf`), then its new values, then the
// cursor. Updates `cursor` as batches commit.
StepResult MigrateRecords(const StepEnv& env, const Step& step,
                          rocksdb::ColumnFamilyHandle* backup_cf,
                          Cursor* cursor);

// Restores every record of backup `cursor->info.backup_id` (in `backup_cf`)
// to its original bytes, from where `cursor` (state rolling_back) says, one
// atomic write per batch with the cursor. Never kItemError.
StepResult RestoreRecords(const StepEnv& env,
                          rocksdb::ColumnFamilyHandle* backup_cf,
                          Cursor* cursor);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_STEP_RUNNER_H_
