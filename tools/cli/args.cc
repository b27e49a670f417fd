#include "tools/cli/args.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "src/duration_text.h"

namespace rocksmigrate::cli {
namespace {

struct CommandSpec {
  std::set<std::string> flags;
  size_t min_args;
  size_t max_args;
  const char* args_usage;
};

const std::map<std::string, CommandSpec>& Commands() {
  static const auto* commands = new std::map<std::string, CommandSpec>{
      {"status", {{"check"}, 0, 0, ""}},
      {"health", {{}, 0, 0, ""}},
      {"migrate",
       {{"to", "dry-run", "batch-size", "no-backup", "threads", "backup-cf",
         "metrics-file", "redo", "force"},
        0, 0, ""}},
      {"rollback", {{"to", "metrics-file"}, 0, 0, ""}},
      {"abandon", {{"metrics-file"}, 0, 0, ""}},
      {"metrics", {{"metrics-file"}, 0, 0, ""}},
      {"report", {{"validate"}, 0, 0, ""}},
      {"recommendations", {{}, 0, 0, ""}},
      {"history", {{}, 0, 0, ""}},
      {"validate", {{}, 0, 0, ""}},
      {"backups",
       {{"keep", "older-than", "force"}, 1, 2,
        "list | verify ID | delete ID [--force] | prune [--keep N] "
        "[--older-than AGE]"}},
      {"repair",
       {{"confirm"}, 2, 2,
        "remove-key KEY --confirm | set-version N --confirm"}},
      {"create", {{"prefix"}, 1, 1, "NAME --prefix P"}},
  };
  return *commands;
}

// Flags and whether they take a value.
const std::map<std::string, bool>& KnownFlags() {
  static const auto* flags = new std::map<std::string, bool>{
      {"db", true},         {"migrations", true}, {"json", false},
      {"help", false},      {"version", false},   {"check", false},     {"to", true},
      {"dry-run", false},   {"batch-size", true}, {"no-backup", false},
      {"threads", true},    {"keep", true},       {"older-than", true},       {"prefix", true},
      {"backup-cf", true},  {"force", false},      {"confirm", false},
      {"metrics-file", true}, {"redo", false},      {"validate", false},
  };
  return *flags;
}

absl::Status Usage(const std::string& problem) {
  return absl::InvalidArgumentError(problem);
}

// Other names of commands: the name operators of servers know.
const std::map<std::string, std::string>& Aliases() {
  static const auto* aliases =
      new std::map<std::string, std::string>{{"migration-status", "status"}};
  return *aliases;
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
    auto known = KnownFlags().find(name);
    if (known == KnownFlags().end()) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    if (known->second) {
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
  inv.command = positionals.front();
  if (auto alias = Aliases().find(inv.command); alias != Aliases().end()) {
    inv.command = alias->second;
  }
  inv.args.assign(positionals.begin() + 1, positionals.end());
  auto spec = Commands().find(inv.command);
  if (spec == Commands().end()) {
    return Usage(absl::StrCat("unknown command \"", inv.command, "\""));
  }
  for (const auto& [name, value] : flags) {
    if (spec->second.flags.count(name) == 0) {
      return Usage(absl::StrCat(inv.command, " does not take --", name));
    }
  }
  if (inv.args.size() < spec->second.min_args ||
      inv.args.size() > spec->second.max_args) {
    if (inv.args.size() > spec->second.max_args) {
      return Usage(absl::StrCat("unexpected argument \"",
                                inv.args[spec->second.max_args], "\" for ",
                                inv.command));
    }
    return Usage(absl::StrCat("usage: ", inv.command, " ",
                              spec->second.args_usage));
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
