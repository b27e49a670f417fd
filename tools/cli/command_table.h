// The one table of the admin tool's commands and flags: the parser
// (args.cc) checks an invocation against it, the usage text (`--help`, and
// so the man page) is assembled from it, and RunCli() dispatches through it.
// A command is added here and nowhere else.
#ifndef ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_
#define ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/cli.h"

namespace rocksmigrate::cli {

struct CommandContext;

struct CommandSpec {
  std::string name;
  std::vector<std::string> aliases;  // Other names ("migration-status").
  std::set<std::string> flags;       // The command flags it takes.
  size_t min_args = 0;               // Positionals after the name.
  size_t max_args = 0;
  std::string args_usage;  // "usage: NAME <args_usage>" for a wrong count.
  // Its lines in the usage text, as printed (two-space indent, the summary
  // from column 32).
  std::string help;
  // Whether it opens --db, and whether the migrations directory is loaded
  // (and checked) before it runs.
  bool needs_db = true;
  bool loads_migrations = true;
  absl::StatusOr<Outcome> (*run)(CommandContext&) = nullptr;
};

struct FlagSpec {
  std::string name;  // Without the dashes.
  bool takes_value = false;
  bool global = false;  // Global flags may stand before or after the command.
  std::string help;     // For global flags: their line in the usage text.
};

// Every command, in the order of the usage text.
const std::vector<CommandSpec>& Commands();
// Every flag, global ones first.
const std::vector<FlagSpec>& Flags();
// The command named or aliased `name`; nullptr if none.
const CommandSpec* FindCommand(const std::string& name);
const FlagSpec* FindFlag(const std::string& name);

// The whole `--help` text.
std::string UsageText();

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_
