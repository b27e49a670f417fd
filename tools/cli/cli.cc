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
#include "tools/cli/command_table.h"
#include "tools/cli/commands.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {


int Finish(const absl::StatusOr<Outcome>& result, const Invocation* inv,
           bool printed_json, std::ostream& out, std::ostream& err) {
  const int code = ExitCodeFor(result);
  if (!result.ok()) {
    // A parse error already ends with the `--help` to run (args.cc).
    const std::string message = EscapeText(result.status().message());
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
    out << UsageText(inv.command);
    return kExitOk;
  }
  if (inv.version) {
    out << "rocksmigrate " << kVersion << '\n';
    return kExitOk;
  }
  const CommandSpec& spec = *FindCommand(inv.command);
  if (inv.db.empty() && spec.needs_db) {
    return Finish(absl::InvalidArgumentError(
                      absl::StrCat(inv.command, " needs --db PATH (or "
                                   "ROCKSMIGRATE_DB); run `rocksmigrate ",
                                   inv.command, " --help` for usage")),
                  nullptr, false, out, err);
  }

  MigrationRegistry own_registry;
  MigrationRegistry* registry =
      cxx_migrations != nullptr ? cxx_migrations : &own_registry;
  CommandContext ctx{inv, out, err};
  ctx.terminal = &err == &std::cerr && isatty(STDERR_FILENO) == 1;
  ctx.registry = registry;

  absl::StatusOr<Outcome> result = Outcome::kDone;
  absl::Status loaded = absl::OkStatus();
  if (spec.loads_migrations) {
    // Every migration file is loaded and checked before the database is
    // touched (SPEC §3): a bad file leaves the data as it was.
    loaded = RegisterMigrationDir(inv.migrations_dir, registry);
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
    if (loaded.ok() && registry->empty() &&
        registry->oldest_supported_version() == 0) {
      err << "note: no migrations loaded (" << inv.migrations_dir
          << " holds no migration file); this binary knows only v1, the "
             "baseline\n";
    }
  }
  result = loaded.ok() ? spec.run(ctx) : absl::StatusOr<Outcome>(loaded);
  if (!result.ok()) result = WithWayOut(ctx, result.status());
  return Finish(result, &inv, ctx.printed_json, out, err);
}

}  // namespace rocksmigrate::cli
