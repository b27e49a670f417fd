// `status`: versions, pending steps (and prefixes that match no record),
// the run in flight and what comes next, backups, the newest history
// entries, and any bookkeeping that cannot be trusted. Reads only the
// bookkeeping keys (and one seek per pending prefix).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksmigrate/status_macros.h"
#include "src/metadata.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {

// The command that deals with the run in flight.
std::string InFlightNext(const CommandContext& ctx, const InFlight& f,
                         InFlightAction action) {
  switch (action) {
    case InFlightAction::kResumeStep:
      return absl::StrCat(Cmd(ctx, "migrate"), " resumes the interrupted run, "
                          "or ", Cmd(ctx, "abandon"), " restores its records "
                          "and gives it up");
    case InFlightAction::kFinishFailure:
      return absl::StrCat(Cmd(ctx, "migrate"),
                          " finishes restoring the failed step (and stops)");
    case InFlightAction::kFinishRollback:
      return absl::StrCat(
          Cmd(ctx, absl::StrCat("rollback --to ",
                                f.rollback_target.value_or(f.from))),
          " finishes the interrupted rollback (any command finishes it first)");
    case InFlightAction::kFinishAbandon:
      return absl::StrCat(Cmd(ctx, "abandon"),
                          " finishes giving up the run (any command finishes "
                          "it first)");
  }
  return "";
}

// Seconds since the run last recorded progress; negative when unknown.
int64_t SecondsSinceProgress(const InFlight& f) {
  const std::optional<absl::Time> t = ParseIsoTime(f.updated_at);
  if (!t) return -1;
  return std::max<int64_t>(0, absl::ToInt64Seconds(absl::Now() - *t));
}

// An online run a server is carrying on now: it recorded progress (or a
// pause) within the last minute.
bool LiveOnlineRun(const InFlight& f) {
  const int64_t ago = SecondsSinceProgress(f);
  return f.mode == RunMode::kOnline && f.state == StepState::kMigrating &&
         ago >= 0 && ago <= 60;
}

// The run's live figures, as its last commit recorded them: mode, progress
// against the estimate, rate, ETA, last progress time, and what holds it
// back. An online run whose progress is old and that nothing holds has
// probably lost its server.
std::string LiveLine(const InFlight& f) {
  std::string out = absl::StrCat("            mode ", ToString(f.mode));
  const uint64_t done = f.items_migrated + f.items_skipped;
  if (f.state == StepState::kMigrating) {
    absl::StrAppend(&out, ", ", FormatCount(done), " of ");
    if (f.items_total_estimate > 0) {
      absl::StrAppend(&out, "about ", FormatCount(f.items_total_estimate),
                      absl::StrFormat(" (%.0f%%)",
                                      100.0 * std::min(done, f.items_total_estimate) /
                                          f.items_total_estimate));
    } else {
      absl::StrAppend(&out, "an unknown number of");
    }
    absl::StrAppend(&out, " records");
    if (f.records_per_second > 0) {
      absl::StrAppend(&out, ", ", FormatCount(f.records_per_second),
                      " records/s");
    }
    const double eta = EtaSeconds(f);
    if (eta >= 0) {
      absl::StrAppend(&out, ", ETA ",
                      FormatMillis(static_cast<int64_t>(eta * 1000)));
    }
  } else if (f.items_kept > 0) {
    absl::StrAppend(&out, ", ", FormatCount(f.items_kept),
                    " kept as the server rewrote them");
  }
  absl::StrAppend(&out, "\n");
  if (!f.updated_at.empty()) {
    absl::StrAppend(&out, "            last progress ", f.updated_at);
    const int64_t ago = SecondsSinceProgress(f);
    if (ago >= 0) absl::StrAppend(&out, " (", ago, " s ago)");
    if (ago > 60 && f.pacing.find("paused") == std::string::npos) {
      absl::StrAppend(&out, "; no progress for over a minute: is the "
                            "migrating process still running?");
    }
    absl::StrAppend(&out, "\n");
  }
  if (!f.pacing.empty()) {
    absl::StrAppend(&out, "            pacing: ", EscapeText(f.pacing), "\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<Outcome> RunStatus(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  Migrator& migrator = *opened.migrator;
  RM_ASSIGN_OR_RETURN(DatabaseState state, migrator.Inspect());
  RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups, migrator.ListBackups());
  const bool up_to_date = state.up_to_date();
  const std::vector<HistoryEntry>& recent = state.recent_history;

  if (ctx.inv.json) {
    Json doc = Json::object();
    doc["database"] = ctx.inv.db;
    doc["secondary"] = opened.handle->is_secondary();
    doc["current_version"] = state.current_version;
    doc["has_stored_version"] = state.has_stored_version;
    doc["target_version"] = state.target_version;
    doc["up_to_date"] = up_to_date;
    doc["empty"] = state.empty;
    doc["newer_than_supported"] = state.newer_than_supported;
    doc["bookkeeping_error"] =
        state.bookkeeping_status.ok()
            ? Json(nullptr)
            : Json(EscapeText(state.bookkeeping_status.message()));
    Json pending = Json::array();
    for (const PendingStep& s : state.pending) {
      pending.push_back(PendingStepToJson(s));
    }
    doc["pending"] = std::move(pending);
    doc["plan_error"] = state.plan_status.ok()
                            ? Json(nullptr)
                            : Json(EscapeText(state.plan_status.message()));
    doc["in_flight"] =
        state.in_flight ? InFlightToJson(*state.in_flight) : Json(nullptr);
    doc["in_flight_action"] =
        state.in_flight_action
            ? Json(std::string(ToString(*state.in_flight_action)))
            : Json(nullptr);
    Json backup_list = Json::array();
    for (const BackupInfo& b : backups) backup_list.push_back(BackupToJson(b));
    doc["backups"] = std::move(backup_list);
    Json history = Json::array();
    for (const HistoryEntry& e : recent) {
      history.push_back(cli::HistoryEntryToJson(e));
    }
    doc["history"] = std::move(history);
    doc["history_total"] = state.history_total;
    PrintJson(ctx, doc);
  } else {
    std::ostream& o = ctx.out;
    o << "database:   " << ctx.inv.db << '\n';
    o << "version:    v" << state.current_version;
    if (!state.has_stored_version) {
      o << (state.empty ? " (empty database, not stamped yet)"
                        : " (no _schema_version stored: baseline)");
    }
    o << '\n';
    o << "target:     v" << state.target_version << " (newest in "
      << ctx.inv.migrations_dir << ")\n";
    if (!state.bookkeeping_status.ok()) {
      o << "problem:    " << EscapeText(state.bookkeeping_status.message())
        << '\n';
    }
    if (state.newer_than_supported) {
      o << "pending:    none: the stored schema is newer than this binary "
           "supports\n";
    } else if (!state.plan_status.ok()) {
      o << "pending:    cannot plan: "
        << EscapeText(state.plan_status.message()) << '\n';
    } else if (state.pending.empty()) {
      o << "pending:    none\n";
    } else {
      o << "pending:    " << state.pending.size() << " step"
        << (state.pending.size() == 1 ? "" : "s") << '\n';
      for (const PendingStep& s : state.pending) {
        o << "            v" << s.step.from << " -> v" << s.step.to << "  "
          << Names(s.step) << '\n';
        if (!s.empty_prefixes.empty()) {
          o << "            warning: no record under "
            << PrefixList(s.empty_prefixes)
            << ": a typo in the migration's prefix?\n";
        }
      }
    }
    if (state.in_flight) {
      const InFlight& f = *state.in_flight;
      o << "in flight:  run " << f.run_id << " " << ToString(f.state);
      if (f.reason != RestoreReason::kNone) {
        o << " (" << ToString(f.reason) << ")";
      }
      if (f.down) {
        o << (f.state == StepState::kMigrating
                  ? " (a down pass: undoing the step by its down transforms)"
                  : " (putting back the records of a down pass)");
      }
      o << " v" << f.from << " -> v" << f.to << ", prefix "
        << EscapeBytes(f.prefix) << ", " << FormatCount(f.items_migrated)
        << " migrated, " << FormatCount(f.items_skipped) << " skipped";
      if (f.state == StepState::kRollingBack) {
        o << ", " << FormatCount(f.items_restored) << " restored";
      }
      o << ", last key "
        << (f.last_key.empty() ? "(none)" : EscapeBytes(f.last_key))
        << ", started " << f.started_at << '\n';
      if (f.error) o << "            error: " << EscapeText(*f.error) << '\n';
      o << LiveLine(f);
    } else {
      o << "in flight:  none\n";
    }
    if (backups.empty()) {
      o << "backups:    none\n";
    } else {
      const BackupInfo* newest = nullptr;
      for (const BackupInfo& b : backups) {
        if (b.readable) newest = &b;
      }
      o << "backups:    " << backups.size();
      if (newest != nullptr) {
        o << " (newest " << newest->id << ": v" << newest->from << " -> v"
          << newest->to << ", " << FormatCount(newest->item_count)
          << " records" << (newest->complete ? "" : ", incomplete") << ")";
      }
      o << '\n';
      for (const BackupInfo& b : backups) {
        if (b.readable) continue;
        o << "            unreadable manifest " << b.id << ": "
          << EscapeText(b.problem) << '\n';
      }
    }
    if (state.history_total == 0) {
      o << "history:    none\n";
    } else {
      o << "history:    last " << recent.size() << " of "
        << state.history_total << " entr"
        << (state.history_total == 1 ? "y" : "ies") << '\n';
      for (const HistoryEntry& e : recent) {
        o << "            " << HistoryLine(e) << '\n';
      }
    }
    o << "next:       ";
    if (!state.bookkeeping_status.ok()) {
      o << "repair the bookkeeping first (the error below says how)\n";
    } else if (state.newer_than_supported) {
      o << "use a rocksmigrate build and migrations directory that know v"
        << state.current_version << '\n';
    } else if (state.in_flight && LiveOnlineRun(*state.in_flight)) {
      o << "nothing while the server that runs this step online goes on (it "
           "recorded progress "
        << SecondsSinceProgress(*state.in_flight)
        << " s ago; `status --check` exits 0 once it is done); if no server "
           "runs it, "
        << Cmd(ctx, "migrate") << " resumes it\n";
    } else if (state.in_flight) {
      o << InFlightNext(ctx, *state.in_flight, *state.in_flight_action)
        << '\n';
    } else if (absl::IsFailedPrecondition(state.plan_status)) {
      o << "bring the database into this binary's supported window first "
           "(the pending line says how)\n";
    } else if (!state.plan_status.ok()) {
      o << "add the missing migration files to " << ctx.inv.migrations_dir
        << '\n';
    } else if (up_to_date) {
      o << "nothing to do: up to date\n";
    } else if (state.pending.empty()) {
      o << Cmd(ctx, "migrate") << " stamps the empty database v"
        << state.target_version << '\n';
    } else {
      o << Cmd(ctx, "migrate --dry-run") << " to preview, then "
        << Cmd(ctx, "migrate") << '\n';
    }
  }

  // Damaged bookkeeping is a refusal whatever was asked: exit 3.
  if (!state.bookkeeping_status.ok()) return state.bookkeeping_status;
  if (!ctx.inv.Has("check")) return Outcome::kDone;
  if (state.newer_than_supported) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the stored schema v", state.current_version,
        " is newer than this binary supports (newest known v",
        state.target_version,
        "); use a newer rocksmigrate or the matching migrations directory"));
  }
  if (absl::IsFailedPrecondition(state.plan_status) && !state.in_flight) {
    return state.plan_status;  // Below the supported window: a refusal.
  }
  if (!state.plan_status.ok() && !state.in_flight) {
    return WithHint(absl::InvalidArgumentError(state.plan_status.message()),
                    absl::StrCat("add the missing migration files to ",
                                 ctx.inv.migrations_dir));
  }
  return up_to_date ? Outcome::kDone : Outcome::kPending;
}

}  // namespace rocksmigrate::cli
