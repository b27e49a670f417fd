#include "src/step_state.h"

#include <array>
#include <utility>

#include "glog/logging.h"

namespace rocksmigrate {
namespace {

template <typename E, size_t N>
using Table = std::array<std::pair<E, std::string_view>, N>;

constexpr Table<StepState, 2> kStates = {{
    {StepState::kMigrating, "migrating"},
    {StepState::kRollingBack, "rolling_back"},
}};
constexpr Table<RestoreReason, 4> kReasons = {{
    {RestoreReason::kNone, ""},
    {RestoreReason::kItemError, "item_error"},
    {RestoreReason::kRollback, "rollback"},
    {RestoreReason::kAbandon, "abandon"},
}};
constexpr Table<StepStatus, 6> kStatuses = {{
    {StepStatus::kSuccess, "success"},
    {StepStatus::kFailed, "failed"},
    {StepStatus::kRolledBack, "rolled_back"},
    {StepStatus::kInterrupted, "interrupted"},
    {StepStatus::kAborted, "aborted"},
    {StepStatus::kStamped, "stamped"},
}};
constexpr Table<RunMode, 2> kModes = {{
    {RunMode::kOffline, "offline"},
    {RunMode::kOnline, "online"},
}};
constexpr Table<InFlightAction, 4> kActions = {{
    {InFlightAction::kResumeStep, "resume_step"},
    {InFlightAction::kFinishFailure, "finish_failure"},
    {InFlightAction::kFinishRollback, "finish_rollback"},
    {InFlightAction::kFinishAbandon, "finish_abandon"},
}};

constexpr Table<RollbackMethod, 3> kMethods = {{
    {RollbackMethod::kAuto, "auto"},
    {RollbackMethod::kBackup, "backup"},
    {RollbackMethod::kDown, "down"},
}};

template <typename E, size_t N>
std::string_view Name(const Table<E, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  LOG(FATAL) << "enum value without a name: " << static_cast<int>(value);
  return {};
}

template <typename E, size_t N>
std::optional<E> Parse(const Table<E, N>& table, std::string_view text) {
  for (const auto& [e, name] : table) {
    if (name == text) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string ToString(StepState state) {
  return std::string(Name(kStates, state));
}
std::string ToString(RestoreReason reason) {
  return std::string(Name(kReasons, reason));
}
std::string ToString(StepStatus status) {
  return std::string(Name(kStatuses, status));
}
std::string ToString(RunMode mode) { return std::string(Name(kModes, mode)); }
std::optional<RunMode> ParseRunMode(std::string_view text) {
  return Parse(kModes, text);
}
std::string ToString(RollbackMethod method) {
  return std::string(Name(kMethods, method));
}
std::optional<RollbackMethod> ParseRollbackMethod(std::string_view text) {
  return Parse(kMethods, text);
}
std::string ToString(InFlightAction action) {
  return std::string(Name(kActions, action));
}

std::optional<StepState> ParseStepState(std::string_view text) {
  return Parse(kStates, text);
}
std::optional<RestoreReason> ParseRestoreReason(std::string_view text) {
  return Parse(kReasons, text);
}
std::optional<StepStatus> ParseStepStatus(std::string_view text) {
  return Parse(kStatuses, text);
}

InFlightAction ActionFor(const InFlight& in_flight) {
  if (in_flight.state == StepState::kMigrating) {
    // A down pass is a rollback's: whoever finds it finishes the rollback.
    return in_flight.down ? InFlightAction::kFinishRollback
                          : InFlightAction::kResumeStep;
  }
  switch (in_flight.reason) {
    case RestoreReason::kRollback:
      return InFlightAction::kFinishRollback;
    case RestoreReason::kAbandon:
      return InFlightAction::kFinishAbandon;
    case RestoreReason::kItemError:
    case RestoreReason::kNone:  // Rejected by the decoder; see header.
      break;
  }
  return InFlightAction::kFinishFailure;
}

StepStatus OutcomeOfRestore(RestoreReason reason) {
  switch (reason) {
    case RestoreReason::kRollback:
      return StepStatus::kRolledBack;
    case RestoreReason::kAbandon:
      return StepStatus::kAborted;
    case RestoreReason::kItemError:
    case RestoreReason::kNone:
      break;
  }
  return StepStatus::kFailed;
}

}  // namespace rocksmigrate
