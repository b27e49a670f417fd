#include "tools/cli/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/version.h"
#include "tools/cli/args.h"
#include "tools/cli/command_util.h"
#include "tools/cli/commands.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {

constexpr char kUsage[] = R"(rocksmigrate: migrate the schema of records stored in RocksDB

usage: rocksmigrate --db PATH [--migrations DIR] [--json] COMMAND [flags]

commands:
  status [--check]             current and target version, pending steps, any
                               run in flight, backups, the last history entries
                               --check: exit 0 if up to date, 4 if pending
                               (alias: migration-status)
  health                       one line for readiness probes: exit 0 ready,
                               4 pending or running, 3 refused, 1 last run
                               failed; reads only the bookkeeping keys
  migrate [--to N]             apply pending steps (default: up to the newest)
          [--dry-run]          report what migrate would do, write nothing
          [--batch-size N]     records per committed batch (default 1000)
          [--no-backup]        faster, but the run cannot be rolled back
          [--threads N]        transform threads (default: one per core)
          [--backup-cf NAME]   keep this run's backups in column family NAME
                               (created if missing; default: the default one)
          [--metrics-file PATH]
                               keep PATH a Prometheus textfile of the run
                               (rewritten atomically every second)
  migrate --redo [--force]     development: roll the newest step back from
                               its backup and apply it again with the current
                               migration files (refused when they are
                               unchanged, unless --force)
  rollback --to N              go back to version N by restoring from backups
          [--metrics-file PATH]
  abandon                      give up the run in flight: restore its records
          [--metrics-file PATH]
                               from its backup, record it as aborted
  metrics [--metrics-file PATH]
                               the Prometheus metrics of the database's
                               migrations, on stdout or written to PATH
  report [--validate]          status, history summary, backups with sizes
                               and ages, changed files, disk space and
                               recommendations in one document; --validate
                               also checks every migrated record
  recommendations              what needs attention (old backups, a stale
                               run, pending steps, a failed run, low disk, a
                               changed migration file), each with the command
                               that acts on it
  history                      every step of every run
  validate                     every record under migrated prefixes parses and
                               carries its version; applied files unchanged
  backups list | verify ID | delete ID [--force]
          | prune [--keep N] [--older-than AGE]
                               list shows each backup's age and size;
                               --force deletes a backup whose manifest is
                               unreadable; prune deletes backups older than
                               AGE (30d, 12h, 2w), keeping the newest N
  repair remove-key KEY --confirm
                               remove a bookkeeping key that cannot be trusted
  repair set-version N --confirm
                               set _schema_version (recorded as a stamp)
  create NAME --prefix P       write DIR/NNNN_NAME.json for the next version

global flags (before or after the command):
  --db PATH           the database (never created by this tool)
  --migrations DIR    declarative migration files (default: ./migrations)
  --json              print one JSON document on stdout
  --help              this text
  --version           the version of this build

environment (a flag on the command line wins):
  ROCKSMIGRATE_DB          default of --db
  ROCKSMIGRATE_MIGRATIONS  default of --migrations
  ROCKSMIGRATE_JSON        1/true/yes/on: --json; 0/false/no/off: not

status, health, metrics, report, recommendations, history, validate,
backups list/verify and migrate --dry-run only read, and work while a
server holds the database. The other commands need the database to
themselves. A refusal (exit 3) names the key, file or backup and the command
that gets out of it; see the README's "When something is wrong".

exit codes: 0 ok; 1 failed (database left consistent) or problems found;
2 bad usage or bad migration files; 3 refused (newer schema, locked,
unreadable metadata); 4 status --check found pending work; 5 interrupted by a
signal (resumable: run migrate again).
)";

int Finish(const absl::StatusOr<Outcome>& result, const Invocation* inv,
           bool printed_json, std::ostream& out, std::ostream& err) {
  const int code = ExitCodeFor(result);
  if (!result.ok()) {
    std::string message = EscapeText(result.status().message());
    if (absl::IsInvalidArgument(result.status()) && inv == nullptr) {
      absl::StrAppend(&message, "; run `rocksmigrate --help` for usage");
    }
    err << "error: " << message << '\n' << std::flush;
    if (inv != nullptr && inv->json && !printed_json) {
      Json doc = Json::object();
      doc["error"] = message;
      doc["exit_code"] = code;
      out << DumpJson(doc) << '\n' << std::flush;
    }
  }
  return code;
}

}  // namespace

int ExitCodeFor(const absl::StatusOr<Outcome>& result) {
  if (result.ok()) {
    switch (*result) {
      case Outcome::kDone:
        return kExitOk;
      case Outcome::kPending:
        return kExitPending;
      case Outcome::kProblems:
        return kExitFailed;
      case Outcome::kRefused:
        return kExitRefused;
    }
    return kExitFailed;
  }
  switch (result.status().code()) {
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnavailable:
      return kExitRefused;
    case absl::StatusCode::kCancelled:
      return kExitInterrupted;
    default:
      return kExitFailed;
  }
}

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err,
           MigrationRegistry* cxx_migrations) {
  absl::StatusOr<Invocation> parsed = ParseArgs(
      argc, argv, [](const char* name) { return std::getenv(name); });
  if (!parsed.ok()) {
    return Finish(parsed.status(), nullptr, false, out, err);
  }
  const Invocation& inv = *parsed;
  if (inv.help) {
    out << kUsage;
    return kExitOk;
  }
  if (inv.version) {
    out << "rocksmigrate " << kVersion << '\n';
    return kExitOk;
  }
  if (inv.db.empty() && inv.command != "create") {
    return Finish(absl::InvalidArgumentError(
                      absl::StrCat(inv.command, " needs --db PATH")),
                  nullptr, false, out, err);
  }

  MigrationRegistry own_registry;
  MigrationRegistry* registry =
      cxx_migrations != nullptr ? cxx_migrations : &own_registry;
  CommandContext ctx{inv, out, err};
  ctx.terminal = &err == &std::cerr && isatty(STDERR_FILENO) == 1;
  ctx.registry = registry;

  absl::StatusOr<Outcome> result = Outcome::kDone;
  if (inv.command == "create") {
    result = RunCreate(ctx);
  } else {
    // Every migration file is loaded and checked before the database is
    // touched (SPEC §3): a bad file leaves the data as it was.
    absl::Status loaded = RegisterMigrationDir(inv.migrations_dir, registry);
    if (absl::IsNotFound(loaded)) {
      if (registry->empty()) {
        loaded = absl::InvalidArgumentError(absl::StrCat(
            loaded.message(), "; pass --migrations DIR (or run from the "
                              "directory that holds migrations/)"));
      } else {
        loaded = absl::OkStatus();  // The built-in C++ migrations suffice.
      }
    } else if (!loaded.ok()) {
      loaded = WithHint(loaded, "fix the file; nothing was touched");
    }
    if (loaded.ok() && registry->empty()) {
      err << "note: no migrations loaded (" << inv.migrations_dir
          << " holds no migration file); this binary knows only v1, the "
             "baseline\n";
    }
    if (!loaded.ok()) {
      result = loaded;
    } else if (inv.command == "status") {
      result = RunStatus(ctx);
    } else if (inv.command == "health") {
      result = RunHealth(ctx);
    } else if (inv.command == "metrics") {
      result = RunMetrics(ctx);
    } else if (inv.command == "report") {
      result = RunReportCommand(ctx);
    } else if (inv.command == "recommendations") {
      result = RunRecommendations(ctx);
    } else if (inv.command == "migrate") {
      result = RunMigrate(ctx);
    } else if (inv.command == "rollback") {
      result = RunRollback(ctx);
    } else if (inv.command == "history") {
      result = RunHistory(ctx);
    } else if (inv.command == "validate") {
      result = RunValidate(ctx);
    } else if (inv.command == "backups") {
      result = RunBackups(ctx);
    } else if (inv.command == "abandon") {
      result = RunAbandon(ctx);
    } else if (inv.command == "repair") {
      result = RunRepair(ctx);
    }
  }
  if (!result.ok()) result = WithWayOut(ctx, result.status());
  return Finish(result, &inv, ctx.printed_json, out, err);
}

}  // namespace rocksmigrate::cli
