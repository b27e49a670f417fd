// `health`: one verdict for orchestrators' probes (rocksmigrate/health.h),
// one line on stdout or one JSON document, and the exit code that says it:
// 0 ready, 4 pending or running, 3 refused (newer schema, a gap, untrusted
// bookkeeping), 1 the last run failed. Reads only the bookkeeping keys (and
// one seek per pending prefix), read-only, beside a live server.
#include "rocksmigrate/health.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Outcome> RunHealth(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  absl::StatusOr<DatabaseState> state = opened.migrator->Inspect();
  HealthReport report;
  if (state.ok()) {
    report = AssessHealth(*state);
  } else if (absl::IsFailedPrecondition(state.status())) {
    // Bookkeeping Inspect() cannot even read: a refusal, said as one line.
    report.health = Health::kRefused;
    report.summary = absl::StrCat("refused: ", state.status().message());
  } else {
    return state.status();
  }
  Outcome outcome = Outcome::kDone;
  switch (report.health) {
    case Health::kReady:
      outcome = Outcome::kDone;
      break;
    case Health::kPending:
    case Health::kRunning:
      outcome = Outcome::kPending;
      break;
    case Health::kFailed:
      outcome = Outcome::kProblems;
      break;
    case Health::kRefused:
      outcome = Outcome::kRefused;
      break;
  }
  if (ctx.inv.json) {
    Json doc = Json::object();
    doc["database"] = ctx.inv.db;
    doc["health"] = ToString(report.health);
    doc["summary"] = EscapeText(report.summary);
    doc["exit_code"] = ExitCodeFor(outcome);
    if (state.ok()) {
      doc["current_version"] = report.current_version;
      doc["target_version"] = report.target_version;
      doc["pending_steps"] = report.pending_steps;
      doc["in_flight"] = state->in_flight ? InFlightToJson(*state->in_flight)
                                          : Json(nullptr);
    }
    PrintJson(ctx, doc);
  } else {
    ctx.out << EscapeText(report.summary) << '\n';
  }
  return outcome;
}

}  // namespace rocksmigrate::cli
