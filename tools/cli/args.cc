#include "tools/cli/args.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "src/duration_text.h"
#include "tools/cli/command_table.h"

namespace rocksmigrate::cli {
namespace {

absl::Status Usage(const std::string& problem) {
  return absl::InvalidArgumentError(problem);
}

// A flag's default from the environment (ROCKSMIGRATE_DB...), unless the
// command line gave the flag.
absl::Status FromEnvironment(const GetEnv& getenv, Invocation* inv,
                             const std::map<std::string, std::string>& flags) {
  if (!getenv) return absl::OkStatus();
  if (flags.count("db") == 0) {
    if (const char* v = getenv("ROCKSMIGRATE_DB"); v != nullptr && *v != 0) {
      inv->db = v;
    }
  }
  if (flags.count("migrations") == 0) {
    if (const char* v = getenv("ROCKSMIGRATE_MIGRATIONS");
        v != nullptr && *v != 0) {
      inv->migrations_dir = v;
      inv->migrations_given = true;
    }
  }
  if (flags.count("json") == 0) {
    if (const char* v = getenv("ROCKSMIGRATE_JSON"); v != nullptr && *v != 0) {
      const std::string value = v;
      if (value == "1" || value == "true" || value == "yes" || value == "on") {
        inv->json = true;
      } else if (value != "0" && value != "false" && value != "no" &&
                 value != "off") {
        return Usage(absl::StrCat(
            "environment variable ROCKSMIGRATE_JSON is \"", value,
            "\"; set it to 1 (or true, yes, on) or 0 (false, no, off), or "
            "unset it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Invocation> ParseArgs(int argc, char** argv,
                                     const GetEnv& getenv) {
  Invocation inv;
  std::vector<std::string> positionals;
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string token = argv[i];
    if (token == "-h") token = "--help";
    if (token.size() < 2 || token[0] != '-') {
      positionals.push_back(token);
      continue;
    }
    if (token.rfind("--", 0) != 0) {
      return Usage(absl::StrCat("unknown flag ", token));
    }
    std::string name = token.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* known = FindFlag(name);
    if (known == nullptr) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    if (known->takes_value) {
      if (!value) {
        if (i + 1 >= argc) {
          return Usage(absl::StrCat("flag --", name, " needs a value"));
        }
        value = argv[++i];
      }
    } else if (value) {
      return Usage(absl::StrCat("flag --", name, " takes no value"));
    }
    if (!flags.emplace(name, value.value_or("")).second) {
      return Usage(absl::StrCat("flag --", name, " given twice"));
    }
  }

  if (absl::Status s = FromEnvironment(getenv, &inv, flags); !s.ok()) return s;
  for (auto it = flags.begin(); it != flags.end();) {
    const std::string& name = it->first;
    if (name == "db") {
      inv.db = it->second;
      if (inv.db.empty()) return Usage("--db needs a non-empty path");
    } else if (name == "migrations") {
      inv.migrations_dir = it->second;
      inv.migrations_given = true;
      if (inv.migrations_dir.empty()) {
        return Usage("--migrations needs a non-empty path");
      }
    } else if (name == "json") {
      inv.json = true;
    } else if (name == "help") {
      inv.help = true;
    } else if (name == "version") {
      inv.version = true;
    } else {
      ++it;
      continue;
    }
    it = flags.erase(it);
  }
  if (inv.help || inv.version) return inv;

  if (positionals.empty()) return Usage("no command given");
  const CommandSpec* spec = FindCommand(positionals.front());
  if (spec == nullptr) {
    return Usage(absl::StrCat("unknown command \"", positionals.front(), "\""));
  }
  inv.command = spec->name;  // An alias stands for its command.
  inv.args.assign(positionals.begin() + 1, positionals.end());
  for (const auto& [name, value] : flags) {
    if (spec->flags.count(name) == 0) {
      return Usage(absl::StrCat(inv.command, " does not take --", name));
    }
  }
  if (inv.args.size() < spec->min_args || inv.args.size() > spec->max_args) {
    if (inv.args.size() > spec->max_args) {
      return Usage(absl::StrCat("unexpected argument \"",
                                inv.args[spec->max_args], "\" for ",
                                inv.command));
    }
    return Usage(absl::StrCat("usage: ", inv.command, " ", spec->args_usage));
  }
  inv.flags = std::move(flags);
  return inv;
}

absl::StatusOr<std::optional<int64_t>> IntFlag(const Invocation& inv,
                                               const std::string& flag,
                                               int64_t min, int64_t max) {
  auto it = inv.flags.find(flag);
  if (it == inv.flags.end()) return std::optional<int64_t>();
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min || value > max) {
    return Usage(absl::StrCat("--", flag, " needs an integer from ", min,
                              " to ", max, ", not \"", it->second, "\""));
  }
  return std::optional<int64_t>(value);
}

absl::StatusOr<std::optional<absl::Duration>> AgeFlag(const Invocation& inv,
                                                      const std::string& flag) {
  auto it = inv.flags.find(flag);
  if (it == inv.flags.end()) return std::optional<absl::Duration>();
  std::optional<absl::Duration> d = ParseDurationText(it->second);
  if (!d || *d <= absl::ZeroDuration() || *d == absl::InfiniteDuration()) {
    return Usage(absl::StrCat("--", flag, " needs an age such as 30d, 2w, 12h "
                              "or 90m, not \"", it->second, "\""));
  }
  return d;
}

}  // namespace rocksmigrate::cli
