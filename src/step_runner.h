// The two record-moving phases of a step (DESIGN.md's state machine):
// migrating (backups + new values + cursor, batch by batch) and rolling back
// (originals back from a backup + cursor, batch by batch). The transitions
// between states are the Migrator's.
#ifndef ROCKSMIGRATE_SRC_STEP_RUNNER_H_
#define ROCKSMIGRATE_SRC_STEP_RUNNER_H_

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

// Migrates the records of `step` from where `cursor` (state "migrating")
// says, committing one atomic, synced write per batch: the batch's backups
// (when cursor->backup), then its new values, then the cursor. Updates
// `cursor` as batches commit. Returns:
//   OK         every record of the step is migrated;
//   Aborted    an item error; nothing of the failing batch was written; the
//              message names the key, the migration and the step;
//   Cancelled  options.stop_requested was seen at a batch boundary;
//   other      a read or write error; the committed batches stand.
absl::Status MigrateRecords(const StepEnv& env, const Step& step,
                            Cursor* cursor);

// Restores every record of backup `cursor->info.backup_id` to its original
// bytes, from where `cursor` (state "rolling_back") says, one atomic write
// per batch with the cursor. OK when all are restored; Cancelled on a stop
// request; other statuses on I/O errors.
absl::Status RestoreRecords(const StepEnv& env, Cursor* cursor);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_STEP_RUNNER_H_
