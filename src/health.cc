#include "rocksmigrate/health.h"

#include "absl/strings/str_cat.h"

namespace rocksmigrate {

std::string ToString(Health health) {
  switch (health) {
    case Health::kRefused:
      return "refused";
    case Health::kRunning:
      return "running";
    case Health::kFailed:
      return "failed";
    case Health::kPending:
      return "pending";
    case Health::kReady:
      return "ready";
  }
  return "unknown";
}

HealthReport AssessHealth(const DatabaseState& state) {
  HealthReport r;
  r.current_version = state.current_version;
  r.target_version = state.target_version;
  r.pending_steps = state.pending.size();
  const std::string versions =
      absl::StrCat("v", state.current_version, " (target v",
                   state.target_version, ")");
  if (!state.bookkeeping_status.ok()) {
    r.health = Health::kRefused;
    r.summary = absl::StrCat("refused: ", versions, ": bookkeeping cannot be "
                             "trusted: ", state.bookkeeping_status.message());
  } else if (state.newer_than_supported) {
    r.health = Health::kRefused;
    r.summary = absl::StrCat("refused: the stored schema v",
                             state.current_version,
                             " is newer than this binary knows (newest v",
                             state.target_version, ")");
  } else if (state.in_flight) {
    const InFlight& f = *state.in_flight;
    r.health = Health::kRunning;
    r.summary = absl::StrCat("running: step v", f.from, " -> v", f.to, " ",
                             ToString(f.state), ", ",
                             f.items_migrated + f.items_skipped,
                             " records done");
    if (f.items_total_estimate > 0) {
      absl::StrAppend(&r.summary, " of about ", f.items_total_estimate);
    }
    if (!f.updated_at.empty()) {
      absl::StrAppend(&r.summary, ", last progress ", f.updated_at);
    }
  } else if (!state.plan_status.ok()) {
    r.health = Health::kRefused;
    r.summary = absl::StrCat("refused: ", versions, ": cannot plan: ",
                             state.plan_status.message());
  } else if (!state.recent_history.empty() &&
             state.recent_history.back().status == StepStatus::kFailed) {
    const HistoryEntry& e = state.recent_history.back();
    r.health = Health::kFailed;
    r.summary = absl::StrCat("failed: step v", e.from, " -> v", e.to,
                             " failed at ", e.started_at, ": ",
                             e.error.value_or("(no message)"), "; at ",
                             versions);
  } else if (!state.up_to_date()) {
    r.health = Health::kPending;
    if (state.pending.empty()) {
      r.summary = absl::StrCat("pending: empty database, not stamped v",
                               state.target_version, " yet");
    } else {
      r.summary = absl::StrCat("pending: v", state.current_version, " -> v",
                               state.target_version, ", ",
                               state.pending.size(), " step",
                               state.pending.size() == 1 ? "" : "s");
    }
  } else {
    r.health = Health::kReady;
    r.summary = absl::StrCat("ready: v", state.current_version);
  }
  // One line, whatever the messages held.
  for (char& c : r.summary) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return r;
}

}  // namespace rocksmigrate
