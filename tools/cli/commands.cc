#include "tools/cli/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/db_handle.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/format.h"
#include "tools/cli/progress.h"

namespace rocksmigrate::cli {
namespace {

// How many history entries `status` shows.
constexpr size_t kStatusHistoryEntries = 5;

// ---------------------------------------------------------------------------
// Signals: SIGINT/SIGTERM ask the migrator to stop at the next batch
// boundary. SA_RESETHAND: a second signal terminates at once, which is safe
// (a crash is resumable too) and lets an impatient user get out.

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler needs a lock-free flag");

extern "C" void HandleStopSignal(int) {
  g_stop_requested.store(true, std::memory_order_relaxed);
}

class ScopedStopSignals {
 public:
  ScopedStopSignals() {
    g_stop_requested.store(false);
    struct sigaction action = {};
    action.sa_handler = HandleStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~ScopedStopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;

  const std::atomic<bool>* flag() const { return &g_stop_requested; }

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

// ---------------------------------------------------------------------------
// Helpers.

// `path` as the user should type it back into a shell.
std::string ShellWord(const std::string& path) {
  const bool plain = std::all_of(path.begin(), path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("/._-+:@%,=", c) != nullptr;
  });
  if (plain && !path.empty()) return path;
  std::string quoted = "'";
  for (char c : path) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

// "rocksmigrate --db PATH [--migrations DIR] <rest>", for "what to do" hints.
std::string Cmd(const CommandContext& ctx, const std::string& rest) {
  std::string cmd = absl::StrCat("rocksmigrate --db ", ShellWord(ctx.inv.db));
  if (ctx.inv.migrations_given) {
    absl::StrAppend(&cmd, " --migrations ", ShellWord(ctx.inv.migrations_dir));
  }
  return absl::StrCat("`", cmd, " ", rest, "`");
}

void PrintJson(CommandContext& ctx, const Json& doc) {
  ctx.out << DumpJson(doc) << '\n' << std::flush;
  ctx.printed_json = true;
}

struct Opened {
  std::unique_ptr<DbHandle> handle;
  std::unique_ptr<Migrator> migrator;
};

absl::StatusOr<Opened> Open(CommandContext& ctx, OpenMode mode,
                            MigratorOptions options = {}) {
  Opened opened;
  auto handle = DbHandle::Open(ctx.inv.db, mode);
  if (!handle.ok()) {
    if (absl::IsInvalidArgument(handle.status())) {
      return WithHint(handle.status(),
                      "check the --db path (rocksmigrate never creates a "
                      "database)");
    }
    return handle.status();
  }
  opened.handle = std::move(handle).value();
  options.backup_column_family = opened.handle->backup_column_family();
  RM_ASSIGN_OR_RETURN(opened.migrator,
                      Migrator::Create(opened.handle->db(), ctx.registry,
                                       std::move(options)));
  return opened;
}

std::string Names(const Step& step) {
  std::vector<std::string> names;
  for (const Migration* m : step.migrations) {
    names.push_back(absl::StrCat(m->name(), " (", EscapeBytes(m->prefix()),
                                 ")"));
  }
  return absl::StrJoin(names, ", ");
}

std::string FirstLine(std::string text) {
  // Messages from the engine are one line already; keep ours so.
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string HistoryLine(const HistoryEntry& e) {
  std::string line = absl::StrFormat(
      "%-20s  v%d -> v%d  %-11s  %s migrated, %s skipped, %s", e.started_at,
      e.from, e.to, e.status, FormatCount(e.items_migrated),
      FormatCount(e.items_skipped), FormatMillis(e.duration_ms));
  if (e.backup_id) absl::StrAppend(&line, ", backup ", *e.backup_id);
  absl::StrAppend(&line, "  [run ", e.run_id, "]");
  if (e.error) absl::StrAppend(&line, "\n      error: ", EscapeText(*e.error));
  return line;
}

absl::StatusOr<Outcome> RunDryRun(CommandContext& ctx,
                                  std::optional<int> target,
                                  MigratorOptions options) {
  ProgressReporter reporter(ctx.err, ctx.terminal);
  options.on_progress = [&reporter](const Progress& p) { reporter.Report(p); };
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly, options));
  RM_ASSIGN_OR_RETURN(DatabaseState state, opened.migrator->Inspect());
  if (target && *target < state.current_version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--to ", *target, " is below the current version ",
        state.current_version, "; to go back use ",
        Cmd(ctx, absl::StrCat("rollback --to ", *target))));
  }
  absl::StatusOr<DryRunReport> result = opened.migrator->DryRun(target);
  reporter.Finish();
  if (!result.ok()) return result.status();
  const DryRunReport& report = *result;

  if (ctx.inv.json) {
    PrintJson(ctx, DryRunToJson(report));
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
          "failing, %s to write\n",
          s.from, s.to, absl::StrJoin(s.migrations, ", "),
          FormatCount(s.items_to_migrate), FormatCount(s.items_to_delete),
          FormatCount(s.items_skipped), FormatCount(s.items_failed),
          FormatBytes(s.bytes_to_write));
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
  if (!ctx.inv.json && !report.steps.empty()) {
    ctx.out << "next: " << Cmd(ctx, "migrate") << '\n';
  }
  return Outcome::kDone;
}

}  // namespace

absl::Status WithHint(const absl::Status& status, const std::string& hint) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), "; ", hint));
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunStatus(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  Migrator& migrator = *opened.migrator;
  RM_ASSIGN_OR_RETURN(DatabaseState state, migrator.Inspect());
  RM_ASSIGN_OR_RETURN(std::vector<HistoryEntry> history, migrator.History());
  RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups, migrator.ListBackups());
  const bool up_to_date = state.up_to_date();

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
    Json pending = Json::array();
    for (const Step& s : state.pending) pending.push_back(StepToJson(s));
    doc["pending"] = std::move(pending);
    doc["plan_error"] = state.plan_status.ok()
                            ? Json(nullptr)
                            : Json(EscapeText(state.plan_status.message()));
    doc["in_flight"] =
        state.in_flight ? InFlightToJson(*state.in_flight) : Json(nullptr);
    Json backup_list = Json::array();
    for (const BackupInfo& b : backups) backup_list.push_back(BackupToJson(b));
    doc["backups"] = std::move(backup_list);
    Json recent = Json::array();
    const size_t first = history.size() > kStatusHistoryEntries
                             ? history.size() - kStatusHistoryEntries
                             : 0;
    for (size_t i = first; i < history.size(); ++i) {
      recent.push_back(HistoryEntryToJson(history[i]));
    }
    doc["history"] = std::move(recent);
    doc["history_total"] = history.size();
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
      for (const Step& s : state.pending) {
        o << "            v" << s.from << " -> v" << s.to << "  " << Names(s)
          << '\n';
      }
    }
    if (state.in_flight) {
      const InFlight& f = *state.in_flight;
      o << "in flight:  run " << f.run_id << " " << f.state << " v" << f.from
        << " -> v" << f.to << ", prefix " << EscapeBytes(f.prefix) << ", "
        << FormatCount(f.items_migrated) << " migrated, "
        << FormatCount(f.items_skipped) << " skipped, last key "
        << (f.last_key.empty() ? "(none)" : EscapeBytes(f.last_key))
        << ", started " << f.started_at << '\n';
      if (f.error) o << "            error: " << EscapeText(*f.error) << '\n';
    } else {
      o << "in flight:  none\n";
    }
    if (backups.empty()) {
      o << "backups:    none\n";
    } else {
      const BackupInfo& b = backups.back();
      o << "backups:    " << backups.size() << " (newest " << b.id << ": v"
        << b.from << " -> v" << b.to << ", " << FormatCount(b.item_count)
        << " records" << (b.complete ? "" : ", incomplete") << ")\n";
    }
    if (history.empty()) {
      o << "history:    none\n";
    } else {
      const size_t first = history.size() > kStatusHistoryEntries
                               ? history.size() - kStatusHistoryEntries
                               : 0;
      o << "history:    last " << history.size() - first << " of "
        << history.size() << " step" << (history.size() == 1 ? "" : "s")
        << '\n';
      for (size_t i = first; i < history.size(); ++i) {
        o << "            " << HistoryLine(history[i]) << '\n';
      }
    }
    o << "next:       ";
    if (state.newer_than_supported) {
      o << "use a rocksmigrate build and migrations directory that know v"
        << state.current_version << '\n';
    } else if (!state.plan_status.ok()) {
      o << "add the missing migration files to " << ctx.inv.migrations_dir
        << '\n';
    } else if (state.in_flight) {
      o << Cmd(ctx, "migrate") << " finishes the interrupted run\n";
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

  if (!ctx.inv.Has("check")) return Outcome::kDone;
  if (state.newer_than_supported) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the stored schema v", state.current_version,
        " is newer than this binary supports (newest known v",
        state.target_version,
        "); use a newer rocksmigrate or the matching migrations directory"));
  }
  if (!state.plan_status.ok() && !state.in_flight) {
    return WithHint(absl::InvalidArgumentError(state.plan_status.message()),
                    absl::StrCat("add the missing migration files to ",
                                 ctx.inv.migrations_dir));
  }
  return up_to_date ? Outcome::kDone : Outcome::kPending;
}

// ---------------------------------------------------------------------------

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
  if (ctx.inv.Has("dry-run")) {
    if (ctx.inv.Has("no-backup")) {
      return absl::InvalidArgumentError(
          "--dry-run writes nothing; --no-backup makes no sense with it");
    }
    return RunDryRun(ctx, target, std::move(options));
  }

  ProgressReporter reporter(ctx.err, ctx.terminal);
  options.on_progress = [&reporter](const Progress& p) { reporter.Report(p); };
  options.backup = !ctx.inv.Has("no-backup");
  ScopedStopSignals signals;
  options.stop_requested = signals.flag();
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite, options));
  RM_ASSIGN_OR_RETURN(DatabaseState state, opened.migrator->Inspect());
  if (target && *target < state.current_version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--to ", *target, " is below the current version ",
        state.current_version, "; migrate only goes up: to go back use ",
        Cmd(ctx, absl::StrCat("rollback --to ", *target))));
  }
  if (!options.backup) {
    ctx.err << "warning: --no-backup: records are rewritten without backups; "
               "this run cannot be rolled back, and an item error stops the "
               "step where it is\n";
  }
  if (!state.pending.empty() && !ctx.inv.json &&
      (!target || *target <= state.target_version)) {
    ctx.err << "migrating " << ctx.inv.db << ": v" << state.current_version
            << " -> v" << (target ? *target : state.target_version) << '\n';
  }

  absl::StatusOr<RunReport> result = opened.migrator->Migrate(target);
  reporter.Finish();
  if (!result.ok()) {
    const absl::Status& s = result.status();
    switch (s.code()) {
      case absl::StatusCode::kCancelled:
        return WithHint(
            s, absl::StrCat("the database is consistent; resume with ",
                            Cmd(ctx, "migrate")));
      case absl::StatusCode::kAborted:             // An item error, restored.
      case absl::StatusCode::kFailedPrecondition:  // Newer schema.
      case absl::StatusCode::kUnavailable:         // Another migrator.
        return s;  // The engine's message says what happened and what to do.
      case absl::StatusCode::kInvalidArgument:
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
  if (report.stamped_empty) {
    o << "the database holds no records under the migrated prefixes: stamped "
         "v" << report.to_version << " without rewriting anything\n";
    return Outcome::kDone;
  }
  if (report.steps.empty()) {
    o << "already at v" << report.to_version << "; nothing to do\n";
    return Outcome::kDone;
  }
  for (const HistoryEntry& e : report.steps) {
    o << "v" << e.from << " -> v" << e.to << ": "
      << FormatCount(e.items_migrated) << " migrated, "
      << FormatCount(e.items_skipped) << " skipped in "
      << FormatMillis(e.duration_ms);
    if (e.backup_id) {
      o << ", backup " << *e.backup_id;
    } else {
      o << ", no backup";
    }
    o << '\n';
  }
  o << "now at v" << report.to_version << ". check: " << Cmd(ctx, "validate");
  if (options.backup) {
    o << "; undo: " << Cmd(ctx, absl::StrCat("rollback --to ",
                                             report.from_version));
  }
  o << '\n';
  return Outcome::kDone;
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunRollback(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> to,
                      IntFlag(ctx.inv, "to", 0, 1000000000));
  if (!to) {
    return absl::InvalidArgumentError(
        "rollback needs --to N, the version to go back to");
  }
  ProgressReporter reporter(ctx.err, ctx.terminal);
  MigratorOptions options;
  options.on_progress = [&reporter](const Progress& p) { reporter.Report(p); };
  ScopedStopSignals signals;
  options.stop_requested = signals.flag();
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite, options));
  RM_ASSIGN_OR_RETURN(DatabaseState state, opened.migrator->Inspect());
  if (*to >= state.current_version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--to ", *to, " is not below the current version ",
        state.current_version, "; rollback only goes down (use ",
        Cmd(ctx, "migrate"), " to go up)"));
  }
  absl::StatusOr<RunReport> result =
      opened.migrator->Rollback(static_cast<int>(*to));
  reporter.Finish();
  if (!result.ok()) {
    const absl::Status& s = result.status();
    if (absl::IsCancelled(s)) {
      return WithHint(s, absl::StrCat("interrupted; the restore resumes when "
                                      "you run ",
                                      Cmd(ctx, absl::StrCat("rollback --to ",
                                                            *to))));
    }
    if (absl::IsFailedPrecondition(s)) return s;  // Says why already.
    return WithHint(s, absl::StrCat("see ", Cmd(ctx, "status")));
  }
  const RunReport& report = *result;
  if (ctx.inv.json) {
    PrintJson(ctx, RunReportToJson(report));
    return Outcome::kDone;
  }
  for (const HistoryEntry& e : report.steps) {
    ctx.out << "restored v" << e.to << " -> v" << e.from;
    if (e.backup_id) ctx.out << " from " << *e.backup_id;
    ctx.out << '\n';
  }
  ctx.out << "now at v" << report.to_version << ". to migrate again: "
          << Cmd(ctx, "migrate") << '\n';
  return Outcome::kDone;
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunHistory(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  RM_ASSIGN_OR_RETURN(std::vector<HistoryEntry> history,
                      opened.migrator->History());
  if (ctx.inv.json) {
    Json entries = Json::array();
    for (const HistoryEntry& e : history) {
      entries.push_back(HistoryEntryToJson(e));
    }
    PrintJson(ctx, Json{{"database", ctx.inv.db},
                        {"history", std::move(entries)}});
    return Outcome::kDone;
  }
  if (history.empty()) {
    ctx.out << "no migration runs recorded in " << ctx.inv.db << '\n';
    return Outcome::kDone;
  }
  for (const HistoryEntry& e : history) {
    ctx.out << HistoryLine(e) << '\n';
    ctx.out << "      migrations: " << absl::StrJoin(e.migrations, ", ");
    for (const auto& [file, sha] : e.checksums) {
      ctx.out << "; " << file << " sha256 " << sha.substr(0, 12) << "...";
    }
    ctx.out << '\n';
  }
  return Outcome::kDone;
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunValidate(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  RM_ASSIGN_OR_RETURN(ValidationReport report, opened.migrator->Validate());
  if (ctx.inv.json) {
    Json doc = ValidationToJson(report);
    doc["database"] = ctx.inv.db;
    PrintJson(ctx, doc);
  } else {
    ctx.out << "checked " << FormatCount(report.records_checked)
            << " records under migrated prefixes\n";
    for (const ValidationProblem& p : report.problems) {
      ctx.out << "  "
              << (p.key.empty() ? p.file : absl::StrCat("key ",
                                                        EscapeBytes(p.key)))
              << ": " << EscapeText(p.message) << '\n';
    }
    if (report.problem_count > report.problems.size()) {
      ctx.out << "  ... and "
              << FormatCount(report.problem_count - report.problems.size())
              << " more\n";
    }
    if (report.ok()) ctx.out << "ok: no problems found\n";
  }
  if (report.ok()) return Outcome::kDone;
  const ValidationProblem& first = report.problems.front();
  ctx.err << "error: validate found " << FormatCount(report.problem_count)
          << " problem" << (report.problem_count == 1 ? "" : "s")
          << " (first: "
          << (first.key.empty() ? first.file
                                : absl::StrCat("key ", EscapeBytes(first.key)))
          << ": " << FirstLine(EscapeText(first.message))
          << "); inspect the records, or " << Cmd(ctx, "history")
          << " for what was applied\n";
  return Outcome::kProblems;
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunBackups(CommandContext& ctx) {
  const std::string& action = ctx.inv.args[0];
  const size_t want_args = action == "delete" ? 2 : 1;
  if ((action != "list" && action != "delete" && action != "prune") ||
      ctx.inv.args.size() != want_args) {
    return absl::InvalidArgumentError(
        "usage: backups list | backups delete ID | backups prune --keep N");
  }
  if (ctx.inv.Has("keep") != (action == "prune")) {
    return absl::InvalidArgumentError(action == "prune"
                                          ? "backups prune needs --keep N"
                                          : "--keep only goes with prune");
  }

  if (action == "list") {
    RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
    RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups,
                        opened.migrator->ListBackups());
    if (ctx.inv.json) {
      Json list = Json::array();
      for (const BackupInfo& b : backups) list.push_back(BackupToJson(b));
      PrintJson(ctx, Json{{"database", ctx.inv.db},
                          {"backups", std::move(list)}});
      return Outcome::kDone;
    }
    if (backups.empty()) {
      ctx.out << "no backups in " << ctx.inv.db << '\n';
      return Outcome::kDone;
    }
    for (const BackupInfo& b : backups) {
      std::vector<std::string> prefixes;
      for (const std::string& p : b.prefixes) prefixes.push_back(EscapeBytes(p));
      ctx.out << absl::StrFormat("%-28s v%d -> v%d  %-20s  %s records  %s  %s\n",
                                 b.id, b.from, b.to, b.created_at,
                                 FormatCount(b.item_count),
                                 b.complete ? "complete" : "INCOMPLETE",
                                 absl::StrJoin(prefixes, ","));
    }
    return Outcome::kDone;
  }

  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite));
  if (action == "delete") {
    const std::string& id = ctx.inv.args[1];
    absl::Status s = opened.migrator->DeleteBackup(id);
    if (absl::IsNotFound(s)) {
      return WithHint(s, absl::StrCat("list them with ",
                                      Cmd(ctx, "backups list")));
    }
    RM_RETURN_IF_ERROR(s);
    if (ctx.inv.json) {
      PrintJson(ctx, Json{{"deleted", Json::array({id})}});
    } else {
      ctx.out << "deleted backup " << id << '\n';
    }
    return Outcome::kDone;
  }
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> keep,
                      IntFlag(ctx.inv, "keep", 0, 1000000000));
  RM_ASSIGN_OR_RETURN(std::vector<std::string> deleted,
                      opened.migrator->PruneBackups(static_cast<size_t>(*keep)));
  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"deleted", deleted}});
  } else if (deleted.empty()) {
    ctx.out << "nothing to prune: at most " << *keep << " backups\n";
  } else {
    for (const std::string& id : deleted) {
      ctx.out << "deleted backup " << id << '\n';
    }
  }
  return Outcome::kDone;
}

// ---------------------------------------------------------------------------

absl::StatusOr<Outcome> RunCreate(CommandContext& ctx) {
  const std::string& name = ctx.inv.args[0];
  if (name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "migration name \"", EscapeBytes(name),
        "\" must use only a-z, 0-9 and _ (it becomes the file name)"));
  }
  auto prefix_it = ctx.inv.flags.find("prefix");
  if (prefix_it == ctx.inv.flags.end() || prefix_it->second.empty()) {
    return absl::InvalidArgumentError(
        "create needs --prefix P, the key prefix of the records to migrate");
  }
  const std::string& prefix = prefix_it->second;
  if (prefix[0] == '_') {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix \"", EscapeBytes(prefix),
                     "\" starts with '_', which rocksmigrate reserves"));
  }

  const std::string& dir = ctx.inv.migrations_dir;
  std::error_code ec;
  int newest_to = -1;
  if (std::filesystem::exists(dir, ec)) {
    RM_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Migration>> existing,
                        LoadMigrationDir(dir));
    for (const auto& m : existing) newest_to = std::max(newest_to, m->to());
  } else if (!std::filesystem::create_directories(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot create the migrations directory ", dir, ": ", ec.message()));
  }
  int from = 1;
  if (newest_to >= 0) {
    from = newest_to;
  } else if (!ctx.inv.db.empty()) {
    MigrationRegistry none;
    CommandContext db_ctx{ctx.inv, ctx.out, ctx.err, ctx.terminal, &none};
    absl::StatusOr<Opened> opened = Open(db_ctx, OpenMode::kReadOnly);
    absl::StatusOr<DatabaseState> state =
        opened.ok() ? opened->migrator->Inspect()
                    : absl::StatusOr<DatabaseState>(opened.status());
    if (state.ok()) {
      from = state->current_version;
    } else {
      ctx.err << "note: cannot read the version of " << ctx.inv.db << " ("
              << EscapeText(state.status().message())
              << "); the new migration starts at v1\n";
    }
  }
  const int to = from + 1;
  const std::string file_name = absl::StrFormat("%04d_%s.json", to, name);
  const std::string path = (std::filesystem::path(dir) / file_name).string();

  Json doc = Json::object();
  doc["from"] = from;
  doc["to"] = to;
  doc["name"] = name;
  doc["description"] = "";
  doc["prefix"] = prefix;
  doc["patch"] = Json::array();
  const std::string text = DumpJson(doc) + "\n";

  // O_EXCL: never overwrite a file, even one that appeared since the listing.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0644);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " already exists; not overwriting it (pick another name or "
                "edit that file)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(error)));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
  }

  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"file", path}, {"from", from}, {"to", to},
                        {"name", name}, {"prefix", EscapeBytes(prefix)}});
  } else {
    ctx.out << "created " << path << " (v" << from << " -> v" << to
            << ", prefix " << EscapeBytes(prefix)
            << "); add its patch operations (see migrations/README.md), then "
               "preview with "
            << (ctx.inv.db.empty()
                    ? std::string("`rocksmigrate --db PATH migrate --dry-run`")
                    : Cmd(ctx, "migrate --dry-run"))
            << '\n';
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
