// The admin tool's commands (SPEC §5). Each returns what it found, or the
// Status whose code the one exit-code mapping (ExitCodeFor) turns into the
// process exit code; each error message says what failed, where, and what to
// do.
#ifndef ROCKSMIGRATE_TOOLS_CLI_COMMANDS_H_
#define ROCKSMIGRATE_TOOLS_CLI_COMMANDS_H_

#include <ostream>

#include "absl/status/statusor.h"
#include "rocksmigrate/registry.h"
#include "tools/cli/args.h"
#include "tools/cli/cli.h"

namespace rocksmigrate::cli {

struct CommandContext {
  const Invocation& inv;
  std::ostream& out;
  std::ostream& err;
  // Whether stderr is a terminal (live progress line).
  bool terminal = false;
  // The known migrations, the migrations directory already registered.
  // Unused by `create`.
  const MigrationRegistry* registry = nullptr;
  // Set once a command printed its `--json` document.
  bool printed_json = false;
};

absl::StatusOr<Outcome> RunStatus(CommandContext& ctx);
absl::StatusOr<Outcome> RunHealth(CommandContext& ctx);
absl::StatusOr<Outcome> RunMetrics(CommandContext& ctx);
absl::StatusOr<Outcome> RunReportCommand(CommandContext& ctx);
absl::StatusOr<Outcome> RunRecommendations(CommandContext& ctx);
absl::StatusOr<Outcome> RunMigrate(CommandContext& ctx);
absl::StatusOr<Outcome> RunRollback(CommandContext& ctx);
absl::StatusOr<Outcome> RunHistory(CommandContext& ctx);
absl::StatusOr<Outcome> RunValidate(CommandContext& ctx);
absl::StatusOr<Outcome> RunBackups(CommandContext& ctx);
absl::StatusOr<Outcome> RunCreate(CommandContext& ctx);
absl::StatusOr<Outcome> RunAbandon(CommandContext& ctx);
absl::StatusOr<Outcome> RunRepair(CommandContext& ctx);

// The status with `hint` appended to its message ("...; hint"), same code.
absl::Status WithHint(const absl::Status& status, const std::string& hint);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_COMMANDS_H_
