// Helpers the admin tool's commands share: opening the database with the
// migrator, and the "what to do" hints (the engine's messages name keys,
// files and states; the tool adds the commands that act on them).
#ifndef ROCKSMIGRATE_TOOLS_CLI_COMMAND_UTIL_H_
#define ROCKSMIGRATE_TOOLS_CLI_COMMAND_UTIL_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksmigrate/utilities/db_handle.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "tools/cli/commands.h"
#include "tools/cli/signals.h"

namespace rocksmigrate::cli {

// `path` as the user should type it back into a shell.
std::string ShellWord(const std::string& path);

// "`rocksmigrate --db PATH [--migrations DIR] <rest>`", for hints.
std::string Cmd(const CommandContext& ctx, const std::string& rest);

void PrintJson(CommandContext& ctx, const Json& doc);

// The value of command flag `flag`, or `otherwise` when it is absent.
std::string FlagOr(const CommandContext& ctx, const std::string& flag,
                   const std::string& otherwise = "");

struct Opened {
  std::unique_ptr<DbHandle> handle;
  std::unique_ptr<Migrator> migrator;
};

// Opens the database (creating the column family `create_cf` when it is
// given and the mode is kReadWrite) and a Migrator over it that knows every
// column family, so it finds each step's backup where the step recorded it.
// New backups go to `create_cf` when given, else to the default column
// family (as for a server's MigrateOnStartup).
absl::StatusOr<Opened> Open(CommandContext& ctx, OpenMode mode,
                            MigratorOptions options = {},
                            const std::string& create_cf = "");

// `status` with the commands that get out of it appended: a repair for a
// bookkeeping key, a backup check, abandoning a run in flight...
absl::Status WithWayOut(const CommandContext& ctx, const absl::Status& status);

// One line (newlines replaced): the engine's messages are one line already.
std::string FirstLine(std::string text);

// "v1 -> v2  success  ..." for history and status.
std::string HistoryLine(const HistoryEntry& e);

// "task_add (task:), ..." for a step.
std::string Names(const Step& step);

// Escaped, comma-separated prefixes.
std::string PrefixList(const std::vector<std::string>& prefixes);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_COMMAND_UTIL_H_
