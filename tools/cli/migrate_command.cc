// `migrate` (and its dry run), `rollback` and `abandon`: the commands that
// move records.
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"
#include "tools/cli/metrics_file.h"
#include "tools/cli/progress.h"

namespace rocksmigrate::cli {
namespace {

void WarnEmptyPrefixes(CommandContext& ctx, int from, int to,
                       const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return;
  ctx.err << "warning: step v" << from << " -> v" << to
          << ": no record under " << PrefixList(prefixes)
          << " (a typo in the migration's prefix?)\n";
}

// What a finished run printed for each step it recorded.
void PrintSteps(CommandContext& ctx, const RunReport& report) {
  std::ostream& o = ctx.out;
  for (const HistoryEntry& e : report.steps) {
    if (e.status == StepStatus::kStamped) {
      o << "stamped v" << e.to << " (from v" << e.from
        << ") without rewriting anything: the database holds no records\n";
      continue;
    }
    if (e.status == StepStatus::kRolledBack && e.migrations.empty()) {
      o << "undid the stamp v" << e.from << " -> v" << e.to << '\n';
      continue;
    }
    if (e.status == StepStatus::kRolledBack && e.down) {
      o << "undid v" << e.from << " -> v" << e.to << " with the down transforms "
        << "of " << absl::StrJoin(e.migrations, ", ") << '\n';
      continue;
    }
    if (e.down) {
      o << "the down pass of v" << e.from << " -> v" << e.to
        << " was undone (" << ToString(e.status) << "): its records are back "
        << "at v" << e.to << '\n';
      continue;
    }
    if (e.status == StepStatus::kRolledBack ||
        e.status == StepStatus::kAborted || e.status == StepStatus::kFailed) {
      o << "restored v" << e.to << " -> v" << e.from;
      if (e.backup_id) o << " from " << *e.backup_id;
      o << " (" << ToString(e.status) << ")\n";
      continue;
    }
    o << "v" << e.from << " -> v" << e.to << ": "
      << FormatCount(e.items_migrated) << " migrated, "
      << FormatCount(e.items_skipped) << " skipped";
    if (e.items_ahead > 0) {
      o << " (" << FormatCount(e.items_ahead)
        << " already above v" << e.to << ")";
    }
    o << " in " << FormatMillis(e.duration_ms);
    if (e.backup_id) {
      o << ", backup " << *e.backup_id;
    } else {
      o << ", no backup";
    }
    o << '\n';
    WarnEmptyPrefixes(ctx, e.from, e.to, e.empty_prefixes);
  }
}

// Opens the database for a restoring call (rollback, abandon) with live
// progress and signals that stop at a batch boundary, and runs `call`.
absl::StatusOr<RunReport> RunRestoring(
    CommandContext& ctx,
    const std::function<absl::StatusOr<RunReport>(Migrator&)>& call) {
  ProgressReporter reporter(ctx.err, ctx.terminal);
  MetricsFile metrics(FlagOr(ctx, "metrics-file"), ctx.err);
  MigratorOptions options;
  options.on_progress = [&reporter, &metrics](const Progress& p) {
    reporter.Report(p);
    metrics.OnProgress(p);
  };
  ScopedStopSignals signals;
  options.stop_requested = signals.flag();
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite, options));
  RM_RETURN_IF_ERROR(metrics.Start(opened, ctx.registry));
  absl::StatusOr<RunReport> result = call(*opened.migrator);
  reporter.Finish();
  metrics.Finish();
  return result;
}

absl::StatusOr<Outcome> RunDryRun(CommandContext& ctx,
                                  std::optional<int> target,
                                  MigratorOptions options) {
  ProgressReporter reporter(ctx.err, ctx.terminal);
  options.on_progress = [&reporter](const Progress& p) { reporter.Report(p); };
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly, options));
  absl::StatusOr<DryRunReport> result = opened.migrator->DryRun(target);
  reporter.Finish();
  if (!result.ok()) {
    if (absl::IsInvalidArgument(result.status()) && target) {
      return WithHint(result.status(),
                      absl::StrCat("to go back use ",
                                   Cmd(ctx, absl::StrCat("rollback --to ",
                                                         *target))));
    }
    return result.status();
  }
  const DryRunReport& report = *result;
  const bool restore_first =
      report.in_flight_action &&
      *report.in_flight_action != InFlightAction::kResumeStep;

  if (ctx.inv.json) {
    PrintJson(ctx, DryRunToJson(report));
  } else if (restore_first) {
    ctx.out << "dry run: a restore is in flight ("
            << ToString(*report.in_flight_action)
            << "); migrate would finish it and stop at v"
            << report.to_version << "; nothing was written\n";
  } else if (report.would_stamp) {
    ctx.out << "dry run: the database holds no records; migrate would stamp "
               "it v"
            << report.to_version << " without rewriting anything; nothing "
               "was written\n";
  } else if (report.steps.empty()) {
    ctx.out << "dry run: nothing to migrate (at v" << report.from_version
            << ")\n";
  } else {
    ctx.out << "dry run: v" << report.from_version << " -> v"
            << report.to_version << ", " << report.steps.size() << " step"
            << (report.steps.size() == 1 ? "" : "s") << ", "
            << FormatCount(report.records_scanned) << " records scanned in "
            << HumanDuration(report.elapsed) << "; nothing was written\n";
    for (const DryRunStep& s : report.steps) {
      ctx.out << absl::StrFormat(
          "  v%d -> v%d  %s: %s to migrate (%s deleted), %s skipped, %s "
          "failing, %s to write%s\n",
          s.from, s.to, absl::StrJoin(s.migrations, ", "),
          FormatCount(s.items_to_migrate), FormatCount(s.items_to_delete),
          FormatCount(s.items_skipped), FormatCount(s.items_failed),
          FormatBytes(s.bytes_to_write),
          s.resumes_in_flight ? " (resuming the run in flight)" : "");
      if (s.items_ahead > 0) {
        ctx.out << "      " << FormatCount(s.items_ahead)
                << " of the skipped are already above v" << s.to << '\n';
      }
      if (!s.empty_prefixes.empty()) {
        ctx.out << "      warning: no record under "
                << PrefixList(s.empty_prefixes)
                << " (a typo in the migration's prefix?)\n";
      }
      for (const ItemFailure& f : s.first_failures) {
        ctx.out << "      " << EscapeBytes(f.key) << ": "
                << EscapeText(f.message) << '\n';
      }
    }
    ctx.out << "estimated migration time: "
            << HumanDuration(report.estimated_duration) << '\n';
  }
  if (report.would_fail()) {
    uint64_t failing = 0;
    const ItemFailure* first = nullptr;
    for (const DryRunStep& s : report.steps) {
      failing += s.items_failed;
      if (first == nullptr && !s.first_failures.empty()) {
        first = &s.first_failures.front();
      }
    }
    ctx.err << "error: dry run: " << FormatCount(failing) << " record"
            << (failing == 1 ? "" : "s") << " would fail";
    if (first != nullptr) {
      ctx.err << " (first: key " << EscapeBytes(first->key) << ": "
              << FirstLine(EscapeText(first->message)) << ")";
    }
    ctx.err << "; fix those records or the migration before running migrate\n";
    return Outcome::kProblems;
  }
  if (!ctx.inv.json && (!report.steps.empty() || report.would_stamp ||
                        restore_first)) {
    ctx.out << "next: " << Cmd(ctx, "migrate") << '\n';
  }
  return Outcome::kDone;
}

}  // namespace

absl::StatusOr<Outcome> RunMigrate(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> to,
                      IntFlag(ctx.inv, "to", 0, 1000000000));
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> batch,
                      IntFlag(ctx.inv, "batch-size", 1, 100000000));
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> threads,
                      IntFlag(ctx.inv, "threads", 0, 1024));
  std::optional<int> target;
  if (to) target = static_cast<int>(*to);
  MigratorOptions options;
  if (batch) options.batch_items = static_cast<size_t>(*batch);
  if (threads) options.threads = static_cast<int>(*threads);
  std::string backup_cf;
  if (auto it = ctx.inv.flags.find("backup-cf"); it != ctx.inv.flags.end()) {
    backup_cf = it->second;
    if (backup_cf.empty() || backup_cf == kDefaultColumnFamilyName) {
      return absl::InvalidArgumentError(
          "--backup-cf needs the name of a column family other than default "
          "(backups go to the default column family without it)");
    }
  }
  const bool redo = ctx.inv.Has("redo");
  if (ctx.inv.Has("force") && !redo) {
    return absl::InvalidArgumentError("--force only goes with --redo");
  }
  if (redo && (to || ctx.inv.Has("dry-run") || ctx.inv.Has("no-backup") ||
               !backup_cf.empty())) {
    return absl::InvalidArgumentError(
        "--redo rolls the newest step back and applies it again, with "
        "backups; --to, --dry-run, --no-backup and --backup-cf do not go "
        "with it");
  }
  if (ctx.inv.Has("dry-run")) {
    if (ctx.inv.Has("no-backup") || !backup_cf.empty() ||
        ctx.inv.Has("metrics-file")) {
      return absl::InvalidArgumentError(
          "--dry-run writes nothing; --no-backup, --backup-cf and "
          "--metrics-file make no sense with it");
    }
    return RunDryRun(ctx, target, std::move(options));
  }
  if (ctx.inv.Has("no-backup") && !backup_cf.empty()) {
    return absl::InvalidArgumentError(
        "--no-backup writes no backup; --backup-cf makes no sense with it");
  }

  ProgressReporter reporter(ctx.err, ctx.terminal);
  MetricsFile metrics(FlagOr(ctx, "metrics-file"), ctx.err);
  options.on_progress = [&reporter, &metrics](const Progress& p) {
    reporter.Report(p);
    metrics.OnProgress(p);
  };
  options.backup = !ctx.inv.Has("no-backup");
  ScopedStopSignals signals;
  options.stop_requested = signals.flag();
  RM_ASSIGN_OR_RETURN(Opened opened,
                      Open(ctx, OpenMode::kReadWrite, options, backup_cf));
  RM_RETURN_IF_ERROR(metrics.Start(opened, ctx.registry));
  RM_ASSIGN_OR_RETURN(DatabaseState state, opened.migrator->Inspect());
  if (!options.backup) {
    ctx.err << "warning: --no-backup: records are rewritten without backups; "
               "this run cannot be rolled back, and an item error stops the "
               "step where it is\n";
  }
  if (state.bookkeeping_status.ok() && !state.pending.empty() &&
      !ctx.inv.json && (!target || *target <= state.target_version)) {
    ctx.err << "migrating " << ctx.inv.db << ": v" << state.current_version
            << " -> v" << (target ? *target : state.target_version) << '\n';
    for (const PendingStep& p : state.pending) {
      if (target && p.step.to > *target) break;
      WarnEmptyPrefixes(ctx, p.step.from, p.step.to, p.empty_prefixes);
    }
  }

  absl::StatusOr<RunReport> result =
      redo ? opened.migrator->Redo(ctx.inv.Has("force"))
           : opened.migrator->Migrate(target);
  reporter.Finish();
  metrics.Finish();
  if (!result.ok() && redo && absl::IsFailedPrecondition(result.status()) &&
      absl::StrContains(result.status().message(), "pass force")) {
    return WithHint(result.status(),
                    absl::StrCat(Cmd(ctx, "migrate --redo --force"),
                                 " redoes it anyway"));
  }
  if (!result.ok()) {
    const absl::Status& s = result.status();
    switch (s.code()) {
      case absl::StatusCode::kCancelled:
        return WithHint(
            s, absl::StrCat("the database is consistent; resume with ",
                            Cmd(ctx, "migrate")));
      case absl::StatusCode::kAborted:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kDataLoss:
        return s;  // The engine's message says what happened.
      case absl::StatusCode::kInvalidArgument:
        if (target && *target < state.current_version) {
          return WithHint(s, absl::StrCat("to go back use ",
                                          Cmd(ctx, absl::StrCat("rollback --to ",
                                                                *target))));
        }
        return WithHint(s, absl::StrCat("nothing was written; check the files "
                                        "in ", ctx.inv.migrations_dir));
      default:
        return WithHint(
            s, absl::StrCat("the database was left consistent; see ",
                            Cmd(ctx, "status"), " and retry"));
    }
  }
  const RunReport& report = *result;
  if (ctx.inv.json) {
    PrintJson(ctx, RunReportToJson(report));
    return Outcome::kDone;
  }
  std::ostream& o = ctx.out;
  if (report.resumed) o << "finished the interrupted run first\n";
  if (report.steps.empty()) {
    o << "already at v" << report.to_version << "; nothing to do\n";
    return Outcome::kDone;
  }
  PrintSteps(ctx, report);
  o << "now at v" << report.to_version << ". check: " << Cmd(ctx, "validate");
  if (options.backup && !report.stamped_empty) {
    o << "; undo: " << Cmd(ctx, absl::StrCat("rollback --to ",
                                             report.from_version));
  }
  o << '\n';
  return Outcome::kDone;
}

namespace {

// rollback --dry-run: how each step would be undone, nothing written.
absl::StatusOr<Outcome> RunRollbackDryRun(CommandContext& ctx, int to,
                                          RollbackMethod method) {
  ProgressReporter reporter(ctx.err, ctx.terminal);
  MigratorOptions options;
  options.on_progress = [&reporter](const Progress& p) { reporter.Report(p); };
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly, options));
  absl::StatusOr<DryRunReport> result =
      opened.migrator->DryRunRollback(to, method);
  reporter.Finish();
  if (!result.ok()) return result.status();
  const DryRunReport& report = *result;
  if (ctx.inv.json) {
    PrintJson(ctx, DryRunToJson(report));
  } else if (report.in_flight_action) {
    ctx.out << "dry run: a run is in flight ("
            << ToString(*report.in_flight_action) << "); rollback would finish "
            << "or undo it first, then undo " << report.steps.size()
            << " more step" << (report.steps.size() == 1 ? "" : "s")
            << "; nothing was written\n";
  } else {
    ctx.out << "dry run: rollback v" << report.from_version << " -> v"
            << report.to_version << ", " << report.steps.size() << " step"
            << (report.steps.size() == 1 ? "" : "s") << "; nothing was "
            << "written\n";
  }
  if (!ctx.inv.json) {
    for (const DryRunStep& s : report.steps) {
      if (s.undo_by == RollbackMethod::kBackup) {
        ctx.out << absl::StrFormat(
            "  v%d -> v%d  from backup %s: %s records restored\n", s.from, s.to,
            s.backup_id.value_or("?"), FormatCount(s.items_to_migrate));
      } else if (!s.simulated) {
        ctx.out << absl::StrFormat(
            "  v%d -> v%d  by the down transforms of %s (not simulated: it "
            "runs on records a backup restore below puts back)\n",
            s.from, s.to, absl::StrJoin(s.migrations, ", "));
      } else {
        ctx.out << absl::StrFormat(
            "  v%d -> v%d  by the down transforms of %s: %s to rewrite (%s "
            "deleted), %s kept, %s failing\n",
            s.from, s.to, absl::StrJoin(s.migrations, ", "),
            FormatCount(s.items_to_migrate), FormatCount(s.items_to_delete),
            FormatCount(s.items_skipped), FormatCount(s.items_failed));
        for (const ItemFailure& f : s.first_failures) {
          ctx.out << "      " << EscapeBytes(f.key) << ": "
                  << EscapeText(f.message) << '\n';
        }
      }
    }
  }
  if (report.would_fail()) {
    ctx.err << "error: dry run: a down pass would fail on some records; the "
               "real rollback would restore them and stop; fix the down "
               "transforms, or use --using backup if the backups exist\n";
    return Outcome::kProblems;
  }
  return Outcome::kDone;
}

absl::StatusOr<RollbackMethod> UsingFlag(const CommandContext& ctx) {
  auto it = ctx.inv.flags.find("using");
  if (it == ctx.inv.flags.end()) return RollbackMethod::kAuto;
  for (RollbackMethod m : {RollbackMethod::kAuto, RollbackMethod::kBackup,
                           RollbackMethod::kDown}) {
    if (it->second == ToString(m)) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--using '", EscapeText(it->second), "' is not backup, down or auto; "
      "nothing was written"));
}

}  // namespace

absl::StatusOr<Outcome> RunRollback(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> to,
                      IntFlag(ctx.inv, "to", 0, 1000000000));
  if (!to) {
    return absl::InvalidArgumentError(
        "rollback needs --to N, the version to go back to");
  }
  RM_ASSIGN_OR_RETURN(RollbackMethod method, UsingFlag(ctx));
  if (ctx.inv.Has("dry-run")) {
    if (ctx.inv.Has("metrics-file")) {
      return absl::InvalidArgumentError(
          "--dry-run writes nothing; --metrics-file does not go with it");
    }
    return RunRollbackDryRun(ctx, static_cast<int>(*to), method);
  }
  absl::StatusOr<RunReport> result = RunRestoring(ctx, [&](Migrator& m) {
    return m.Rollback(static_cast<int>(*to), method);
  });
  if (!result.ok()) {
    const absl::Status& s = result.status();
    if (absl::IsCancelled(s)) {
      return WithHint(
          s, absl::StrCat("resume the rollback with ",
                          Cmd(ctx, absl::StrCat(
                                       "rollback --to ", *to,
                                       method == RollbackMethod::kAuto
                                           ? ""
                                           : " --using " + ToString(method)))));
    }
    if (absl::IsInvalidArgument(s)) {
      return WithHint(s, absl::StrCat("to go up, use ", Cmd(ctx, "migrate")));
    }
    if (absl::IsFailedPrecondition(s) || absl::IsDataLoss(s) ||
        absl::IsUnavailable(s)) {
      return s;  // Says why already.
    }
    return WithHint(s, absl::StrCat("see ", Cmd(ctx, "status")));
  }
  const RunReport& report = *result;
  if (ctx.inv.json) {
    PrintJson(ctx, RunReportToJson(report));
    return Outcome::kDone;
  }
  PrintSteps(ctx, report);
  ctx.out << "now at v" << report.to_version << ". to migrate again: "
          << Cmd(ctx, "migrate") << '\n';
  return Outcome::kDone;
}

absl::StatusOr<Outcome> RunAbandon(CommandContext& ctx) {
  absl::StatusOr<RunReport> result =
      RunRestoring(ctx, [](Migrator& m) { return m.Abandon(); });
  if (!result.ok()) {
    if (absl::IsCancelled(result.status())) {
      return WithHint(result.status(),
                      absl::StrCat("finish it with ", Cmd(ctx, "abandon")));
    }
    return result.status();
  }
  const RunReport& report = *result;
  if (ctx.inv.json) {
    PrintJson(ctx, RunReportToJson(report));
    return Outcome::kDone;
  }
  PrintSteps(ctx, report);
  ctx.out << "gave up run " << report.run_id << "; now at v"
          << report.to_version << ". to migrate again: " << Cmd(ctx, "migrate")
          << '\n';
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
