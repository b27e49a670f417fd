// Command-line parsing of the admin tool, by hand (no gflags): global flags
// may appear before or after the command.
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

// Parses argv[1..argc). Returns InvalidArgument for an unknown flag or
// command, a missing or repeated value, a flag the command does not take, or
// a wrong number of positionals. `getenv` supplies the defaults of the
// global flags: ROCKSMIGRATE_DB (--db), ROCKSMIGRATE_MIGRATIONS
// (--migrations) and ROCKSMIGRATE_JSON (--json: 1/true/yes/on or
// 0/false/no/off; anything else is InvalidArgument naming the variable). A
// flag on the command line wins over its variable.
absl::StatusOr<Invocation> ParseArgs(int argc, char** argv,
                                     const GetEnv& getenv);

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
