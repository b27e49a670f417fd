// Command-line parsing of the admin tool with CLI11 (Debian libcli11-dev),
// from the one command table (command_table.h). Global flags may stand
// before or after the command; a command's flags stand after its name.
// CLI11 throws; nothing here does: every parse error comes back as a Status.
#ifndef ROCKSMIGRATE_TOOLS_CLI_ARGS_H_
#define ROCKSMIGRATE_TOOLS_CLI_ARGS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rocksmigrate::cli {

struct Invocation {
  std::string db;  // Empty when --db is not given.
  // Default: ./migrations.
  std::string migrations_dir = "migrations";
  bool migrations_given = false;
  bool json = false;
  // --help or -h: print UsageText(command) (command may be empty).
  bool help = false;
  bool version = false;
  // "status", "migrate", ...; an alias is stored as the command it names
  // ("migration-status" as "status").
  std::string command;
  std::vector<std::string> args;   // Positionals after the command.
  // Command flags without their dashes: "to" -> "3", "check" -> "".
  std::map<std::string, std::string> flags;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
};

// Reads an environment variable; nullptr when it is unset.
using GetEnv = std::function<const char*(const char*)>;

// Parses argv[1..argc). Returns InvalidArgument, naming the flag, command or
// argument, for an unknown flag or command, a missing or repeated value, a
// value given to a switch, a flag the command does not take, or a wrong
// number of positionals. `getenv` supplies the defaults of the global flags:
// ROCKSMIGRATE_DB (--db), ROCKSMIGRATE_MIGRATIONS (--migrations) and
// ROCKSMIGRATE_JSON (--json: 1/true/yes/on or 0/false/no/off; anything else
// is InvalidArgument naming the variable); an empty variable counts as
// unset. A flag on the command line wins over its variable.
absl::StatusOr<Invocation> ParseArgs(int argc, char** argv,
                                     const GetEnv& getenv);

// The `--help` text: every command with its flags, the global flags, the
// environment and the exit codes; with `command` (a name or alias), that
// command's text alone. The man page is made from the full text.
std::string UsageText(const std::string& command = "");

// Reads an integer flag value in [min, max]; InvalidArgument naming the flag
// otherwise. nullopt when the flag is absent.
absl::StatusOr<std::optional<int64_t>> IntFlag(const Invocation& inv,
                                               const std::string& flag,
                                               int64_t min, int64_t max);

// Reads an age flag ("30d", "12h", "90m", "2w", "1h30m": absl's duration
// syntax plus d for days and w for weeks), > 0; InvalidArgument naming the
// flag otherwise. nullopt when the flag is absent.
absl::StatusOr<std::optional<absl::Duration>> AgeFlag(const Invocation& inv,
                                                      const std::string& flag);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_ARGS_H_
