// The one table of the admin tool's commands and their flags. The parser
// (args.cc) builds its CLI11 application from it, the usage text (`--help`,
// `COMMAND --help`, and so the man page) is CLI11's rendering of that
// application, and RunCli() dispatches through it. A command or a flag is
// added here and nowhere else.
#ifndef ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_
#define ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/cli.h"

namespace rocksmigrate::cli {

struct CommandContext;

// A flag of one command, or a global flag.
struct FlagSpec {
  std::string name;        // Without the dashes: "batch-size".
  std::string value_name;  // "N", "PATH"...; empty for a switch.
  std::string help;        // One sentence for the usage text.
};

struct CommandSpec {
  std::string name;
  std::vector<std::string> aliases;  // Other names ("migration-status").
  std::string summary;               // What it does, for the usage text.
  std::vector<FlagSpec> flags;       // The command flags it takes.
  size_t min_args = 0;               // Positionals after the name.
  size_t max_args = 0;
  // The positionals as the usage shows them ("list | verify ID | ..."); a
  // wrong count is refused with "usage: NAME <args_usage>".
  std::string args_usage;
  // Whether it opens --db, and whether the migrations directory is loaded
  // (and checked) before it runs.
  bool needs_db = true;
  bool loads_migrations = true;
  absl::StatusOr<Outcome> (*run)(CommandContext&) = nullptr;
};

// Every command, in the order of the usage text.
const std::vector<CommandSpec>& Commands();
// The flags every command takes, before or after its name: --db,
// --migrations, --json (--help and --version are the parser's own).
const std::vector<FlagSpec>& GlobalFlags();
// The command named or aliased `name`; nullptr if none.
const CommandSpec* FindCommand(const std::string& name);
// The command flag `name` of `command`; nullptr if it takes none such.
const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name);
// Whether some command takes the flag `name` (so a wrong command can be
// named rather than an unknown flag).
bool AnyCommandTakes(const std::string& name);

// What the tool prints after the list of commands in `--help`: the
// environment, which commands only read, and the exit codes.
std::string UsageFooter();

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_COMMAND_TABLE_H_
