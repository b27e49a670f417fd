// Command-line parsing of the admin tool, by hand (no gflags): global flags
// may appear before or after the command.
#ifndef ROCKSMIGRATE_TOOLS_CLI_ARGS_H_
#define ROCKSMIGRATE_TOOLS_CLI_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rocksmigrate::cli {

struct Invocation {
  std::string db;  // Empty when --db is not given.
  // Default: ./migrations.
  std::string migrations_dir = "migrations";
  bool migrations_given = false;
  bool json = false;
  bool help = false;
  std::string command;             // "status", "migrate", ...
  std::vector<std::string> args;   // Positionals after the command.
  // Command flags without their dashes: "to" -> "3", "check" -> "".
  std::map<std::string, std::string> flags;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
};

// Parses argv[1..argc). Returns InvalidArgument for an unknown flag or
// command, a missing or repeated value, a flag the command does not take, or
// a wrong number of positionals.
absl::StatusOr<Invocation> ParseArgs(int argc, char** argv);

// Reads an integer flag value in [min, max]; InvalidArgument naming the flag
// otherwise. nullopt when the flag is absent.
absl::StatusOr<std::optional<int64_t>> IntFlag(const Invocation& inv,
                                               const std::string& flag,
                                               int64_t min, int64_t max);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_ARGS_H_
