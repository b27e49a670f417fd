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

// The dispatcher: what any operation does first about a cursor in `state`
// restoring for `reason`. Total: a decoded cursor always has an action (the
// decoder rejects a state and reason that do not go together).
InFlightAction ActionFor(StepState state, RestoreReason reason);

// The history status a finished restore records.
StepStatus OutcomeOfRestore(RestoreReason reason);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_STEP_STATE_H_
