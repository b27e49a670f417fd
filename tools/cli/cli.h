// The `rocksmigrate` admin tool as a library (SPEC §5), so that tests and
// other binaries can run it in-process. tools/rocksmigrate.cc is a thin main.
#ifndef ROCKSMIGRATE_TOOLS_CLI_CLI_H_
#define ROCKSMIGRATE_TOOLS_CLI_CLI_H_

#include <ostream>

#include "absl/status/statusor.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate::cli {

// Exit codes (SPEC §5, §8.7).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;     // Failed; database consistent.
inline constexpr int kExitUsage = 2;      // Bad usage or definitions.
inline constexpr int kExitRefused = 3;    // Newer schema, locked, unreadable.
inline constexpr int kExitPending = 4;    // `status --check`: pending.
inline constexpr int kExitInterrupted = 5;  // Signal; resumable.

// What a command that ran to its end found.
enum class Outcome {
  kDone,      // Success: exit 0.
  kPending,   // `status --check` found pending work: exit 4.
  kProblems,  // `validate` found problems, a dry run found failing items,
              // `health` found the last run failed: exit 1.
  kRefused,   // `health` found a newer schema or untrusted bookkeeping:
              // exit 3 (its line on stdout already says why).
};

// The one mapping from a command's result to the process exit code:
// InvalidArgument -> 2, FailedPrecondition and Unavailable -> 3,
// Cancelled -> 5, any other error -> 1.
int ExitCodeFor(const absl::StatusOr<Outcome>& result);

// Runs the tool: `argv[0] --db PATH [--migrations DIR] [--json] COMMAND
// [flags]`. Writes results to `out`, progress, log lines and the one-line
// `error: ...` to `err`, and returns the exit code. `cxx_migrations`, if not
// null, holds C++ migrations that a custom build of the tool adds; the
// migrations directory is registered into it. Installs SIGINT/SIGTERM
// handlers for the duration of a migrate or rollback.
int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err,
           MigrationRegistry* cxx_migrations = nullptr);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_CLI_H_
