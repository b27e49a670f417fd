// The one place where the step state machine's enums meet their strings
// (DESIGN: "strings appear only in the codec"), and the one dispatcher that
// decides what a found cursor means.
//
//            (no cursor)
//                 │ StartStep: cursor {migrating} + manifest, one write
//                 ▼
//   ┌──────── migrating ──────────────┐  each batch: backups, new values,
//   │ item error / Rollback()         │  cursor; one write
//   │ / Abandon(): BeginRestore       │
//   ▼                                 │  last batch: FinishStep: version,
// rolling_back {reason}               │  history (success), manifest
//   │ each batch: originals + cursor  │  complete, cursor deleted; one write
//   ▼                                 ▼
// FinishRestore: history (failed | rolled_back | aborted), version (for a
// rollback), backup deleted, cursor deleted or the next rollback step's
// cursor; one write
//
// A rollback undoes a step without a backup (or with --using down) by a
// down pass: a migrating cursor with `down` set, whose batches back up the
// records at `to` and write their Down() values; its end is the same
// FinishRestore write (rolled_back, version `from`, its backup deleted).
// An item error in a down pass, or Abandon(), restores its backup (state
// rolling_back, `down` still set): the step stays applied, at `to`, and a
// failed (or aborted) entry is appended for the pass.
#ifndef ROCKSMIGRATE_SRC_STEP_STATE_H_
#define ROCKSMIGRATE_SRC_STEP_STATE_H_

#include <optional>
#include <string_view>

#include "rocksmigrate/migrator.h"

namespace rocksmigrate {

// Parses the strings ToString() gives; nullopt for anything else.
std::optional<StepState> ParseStepState(std::string_view text);
std::optional<RestoreReason> ParseRestoreReason(std::string_view text);
std::optional<StepStatus> ParseStepStatus(std::string_view text);
std::optional<RunMode> ParseRunMode(std::string_view text);
std::optional<RollbackMethod> ParseRollbackMethod(std::string_view text);

// The dispatcher: what any operation does first about a cursor in its
// state, restoring for its reason; a down pass (migrating, `down`) is a
// rollback's. Total: a decoded cursor always has an action (the decoder
// rejects a state and reason that do not go together).
InFlightAction ActionFor(const InFlight& in_flight);

// The history status a finished restore records.
StepStatus OutcomeOfRestore(RestoreReason reason);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_STEP_STATE_H_
