#include "tools/cli/args.h"

#include <memory>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "src/duration_text.h"
#include "tools/cli/command_table.h"

namespace rocksmigrate::cli {
namespace {

absl::Status Usage(const std::string& problem) {
  return absl::InvalidArgumentError(problem);
}

constexpr char kDescription[] =
    "rocksmigrate: migrate the schema of records stored in RocksDB";

constexpr size_t kHelpWidth = 79;   // Columns of the usage text.
constexpr size_t kFlagColumn = 24;  // Where a flag's description starts.

// `text` folded at spaces to kHelpWidth columns, each line after the first
// `lead` characters indented by `indent` spaces.
std::string Fold(const std::string& text, size_t lead, size_t indent) {
  std::string out;
  size_t column = lead;
  const std::vector<std::string> words =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  bool line_start = true;
  for (const std::string& word : words) {
    if (!line_start && column + 1 + word.size() > kHelpWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    line_start = false;
  }
  return out;
}

// CLI11's rendering in the tool's layout: the usage line with the global
// flags the tool needs and a command's positionals as the table states
// them; each command of the full text under its own heading with its flags
// below it; descriptions folded at 79 columns.
class UsageFormatter : public CLI::Formatter {
 public:
  UsageFormatter() { column_width(kFlagColumn); }

  std::string make_usage(const CLI::App* app, std::string) const override {
    const CommandSpec* spec = FindCommand(app->get_name());
    if (app->get_parent() == nullptr || spec == nullptr) {
      // The usage line first, then what the tool is (help2man makes the
      // man page's synopsis from the first).
      return absl::StrCat(
          "Usage: rocksmigrate --db PATH [--migrations DIR] [--json] "
          "COMMAND [flags]\n\n",
          Fold(app->get_description(), 0, 0), "\n");
    }
    std::string line = "Usage: rocksmigrate";
    if (spec->needs_db) absl::StrAppend(&line, " --db PATH");
    absl::StrAppend(&line, " ", spec->name);
    if (!spec->args_usage.empty()) absl::StrAppend(&line, " ", spec->args_usage);
    if (!spec->flags.empty()) absl::StrAppend(&line, " [flags]");
    return Fold(line, 0, 8) + "\n";
  }

  // A command's text starts with what it does; the tool's, with its usage.
  std::string make_description(const CLI::App* app) const override {
    if (app->get_parent() == nullptr) return "";
    return Fold(app->get_description(), 0, 0) + "\n";
  }

  std::string make_option(const CLI::Option* opt,
                          bool positional) const override {
    return OptionLines(opt, 2);
  }

  std::string make_expanded(const CLI::App* sub) const override {
    std::string heading = sub->get_display_name();
    if (const CommandSpec* spec = FindCommand(sub->get_name());
        spec != nullptr && !spec->args_usage.empty()) {
      absl::StrAppend(&heading, " ", spec->args_usage);
    }
    const std::vector<std::string> aliases = sub->get_aliases();
    if (!aliases.empty()) {
      absl::StrAppend(&heading, " (alias: ", absl::StrJoin(aliases, ", "), ")");
    }
    std::string out = absl::StrCat("  ", Fold(heading, 2, 8), "\n      ",
                                   Fold(sub->get_description(), 6, 6), "\n");
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->get_group().empty() || opt == sub->get_help_ptr()) continue;
      absl::StrAppend(&out, OptionLines(opt, 4));
    }
    return out;
  }

 private:
  // A flag at `indent` columns, its description from kFlagColumn + indent
  // - 2 on.
  std::string OptionLines(const CLI::Option* opt, size_t indent) const {
    const size_t column = kFlagColumn + indent - 2;
    std::string lead = absl::StrCat(std::string(indent, ' '),
                                    make_option_name(opt, false),
                                    make_option_opts(opt));
    if (lead.size() + 1 > column) {
      absl::StrAppend(&lead, "\n", std::string(column, ' '));
    } else {
      lead.resize(column, ' ');
    }
    return absl::StrCat(lead, Fold(opt->get_description(), column, column),
                        "\n");
  }
};

// The CLI11 application built from the command table, with where each
// option's results land.
struct Parser {
  struct Command {
    const CommandSpec* spec = nullptr;
    CLI::App* app = nullptr;
    std::vector<std::string> args;
    std::vector<CLI::Option*> flags;  // Parallel to spec->flags.
  };
  std::unique_ptr<CLI::App> app;
  CLI::Option* db = nullptr;
  CLI::Option* migrations = nullptr;
  CLI::Option* json = nullptr;
  CLI::Option* version = nullptr;
  std::vector<Command> commands;
};

CLI::Option* AddFlag(CLI::App* app, const FlagSpec& flag) {
  const std::string name = "--" + flag.name;
  if (flag.value_name.empty()) {
    // A switch takes no value: --dry-run=no is refused, not read as "no".
    return app->add_flag(name, flag.help)->disable_flag_override();
  }
  return app->add_option(name, flag.help)->type_name(flag.value_name);
}

std::unique_ptr<Parser> BuildParser() {
  auto p = std::make_unique<Parser>();
  p->app = std::make_unique<CLI::App>(kDescription, "rocksmigrate");
  CLI::App& app = *p->app;
  app.formatter(std::make_shared<UsageFormatter>());
  app.footer(UsageFooter());
  // Whatever no command or global flag takes is named by ParseArgs below,
  // in the tool's words, rather than by CLI11's generic "not expected".
  app.allow_extras(true);
  app.require_subcommand(0, 1);
  app.option_defaults()->group("Global flags (before or after the command)");
  app.set_help_flag("-h,--help",
                    "print this text; after a command: that command's");
  const std::vector<FlagSpec>& globals = GlobalFlags();
  p->db = AddFlag(&app, globals[0]);
  p->migrations = AddFlag(&app, globals[1]);
  p->json = AddFlag(&app, globals[2]);
  p->version = app.add_flag("--version", "the version of this build")
                   ->disable_flag_override();
  // Every command inherits the help flag and the formatter, so they are set
  // first.
  p->commands.resize(Commands().size());
  for (size_t i = 0; i < Commands().size(); ++i) {
    Parser::Command& c = p->commands[i];
    c.spec = &Commands()[i];
    c.app = app.add_subcommand(c.spec->name, c.spec->summary);
    c.app->group("Commands");
    c.app->option_defaults()->group("Flags");
    c.app->set_help_flag("-h,--help", "print this text");
    c.app->footer(
        "Global flags (--db PATH, --migrations DIR, --json) may stand before\n"
        "or after the command. The environment and the exit codes: "
        "rocksmigrate --help.\n");
    for (const std::string& alias : c.spec->aliases) c.app->alias(alias);
    // Global flags after the command are the application's.
    c.app->fallthrough();
    // The positionals, counted by ParseArgs against the table's bounds so
    // that a wrong count prints the command's usage line; hidden from the
    // help, whose usage line shows them.
    c.app->add_option("args", c.args)->group("");
    for (const FlagSpec& flag : c.spec->flags) {
      c.flags.push_back(AddFlag(c.app, flag));
    }
  }
  return p;
}

// `rocksmigrate COMMAND --help`, or `rocksmigrate --help` without one.
std::string HelpHint(const std::string& command) {
  return absl::StrCat("; run `rocksmigrate ", command, command.empty() ? "" : " ",
                      "--help` for usage");
}

// CLI11's message for the mistakes people make most, in the tool's words
// ("--to: 1 required N missing" is "flag --to needs a value (N)"); any
// other message as CLI11 words it.
std::string InToolWords(const std::string& message) {
  const size_t colon = message.find(": ");
  const std::string flag = message.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : message.substr(colon + 2);
  if (absl::StartsWith(rest, "1 required ") && absl::EndsWith(rest, " missing")) {
    const std::string type = rest.substr(11, rest.size() - 11 - 8);
    return absl::StrCat("flag ", flag, " needs a value (", type, ")");
  }
  if (absl::StartsWith(rest, "At Most 1 required but received")) {
    return absl::StrCat("flag ", flag, " given twice");
  }
  if (absl::EndsWith(message, " was given a disallowed flag override")) {
    return absl::StrCat("flag --", message.substr(0, message.find(' ')),
                        " takes no value");
  }
  return message;
}

// The flag's name as typed, without a value given with "=".
std::string FlagName(const std::string& token) {
  return token.substr(0, token.find('='));
}

// The first argument no command or global flag took, in the tool's words.
absl::Status Unexpected(const std::string& token, const Parser::Command* cmd) {
  const std::string command = cmd == nullptr ? "" : cmd->spec->name;
  if (token.size() < 2 || token[0] != '-') {
    if (cmd == nullptr) {
      return Usage(absl::StrCat("unknown command \"", token, "\"",
                                HelpHint("")));
    }
    return Usage(absl::StrCat("unexpected argument \"", token,
                              "\" before the command ", command,
                              HelpHint(command)));
  }
  const std::string flag = FlagName(token);
  const std::string bare = flag.rfind("--", 0) == 0 ? flag.substr(2) : "";
  if (cmd != nullptr && !bare.empty() && FindFlag(*cmd->spec, bare) != nullptr) {
    return Usage(absl::StrCat(flag, " is a flag of ", command,
                              ": give it after the command name",
                              HelpHint(command)));
  }
  if (cmd != nullptr && !bare.empty() && AnyCommandTakes(bare)) {
    return Usage(absl::StrCat(command, " does not take ", flag,
                              HelpHint(command)));
  }
  if (cmd == nullptr && !bare.empty() && AnyCommandTakes(bare)) {
    return Usage(absl::StrCat(flag, " goes after a command that takes it",
                              HelpHint("")));
  }
  return Usage(absl::StrCat("unknown flag ", flag, HelpHint(command)));
}

// A flag's default from the environment (ROCKSMIGRATE_DB...), unless the
// command line gave the flag.
absl::Status FromEnvironment(const GetEnv& getenv, const Parser& p,
                             Invocation* inv) {
  if (!getenv) return absl::OkStatus();
  if (p.db->count() == 0) {
    if (const char* v = getenv("ROCKSMIGRATE_DB"); v != nullptr && *v != 0) {
      inv->db = v;
    }
  }
  if (p.migrations->count() == 0) {
    if (const char* v = getenv("ROCKSMIGRATE_MIGRATIONS");
        v != nullptr && *v != 0) {
      inv->migrations_dir = v;
      inv->migrations_given = true;
    }
  }
  if (p.json->count() == 0) {
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

const Parser::Command* ParsedCommand(const Parser& p) {
  for (const Parser::Command& c : p.commands) {
    if (c.app->parsed()) return &c;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Invocation> ParseArgs(int argc, char** argv,
                                     const GetEnv& getenv) {
  std::unique_ptr<Parser> p = BuildParser();
  Invocation inv;
  try {
    p->app->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    inv.help = true;
  } catch (const CLI::CallForAllHelp&) {
    inv.help = true;
  } catch (const CLI::ParseError& e) {
    const Parser::Command* cmd = ParsedCommand(*p);
    return Usage(absl::StrCat(InToolWords(e.what()),
                              HelpHint(cmd == nullptr ? "" : cmd->spec->name)));
  } catch (const std::exception& e) {  // CLI11 or the allocator: our bug.
    return absl::InternalError(absl::StrCat("parsing the command line: ",
                                            e.what()));
  }
  const Parser::Command* cmd = ParsedCommand(*p);
  if (cmd != nullptr) inv.command = cmd->spec->name;
  if (inv.help) return inv;

  const std::vector<std::string> extras = p->app->remaining(/*recurse=*/true);
  if (!extras.empty()) return Unexpected(extras.front(), cmd);

  if (absl::Status s = FromEnvironment(getenv, *p, &inv); !s.ok()) return s;
  if (p->db->count() > 0) {
    inv.db = p->db->results().front();
    if (inv.db.empty()) return Usage("--db needs a non-empty path");
  }
  if (p->migrations->count() > 0) {
    inv.migrations_dir = p->migrations->results().front();
    inv.migrations_given = true;
    if (inv.migrations_dir.empty()) {
      return Usage("--migrations needs a non-empty path");
    }
  }
  if (p->json->count() > 0) inv.json = true;
  if (p->version->count() > 0) {
    inv.version = true;
    return inv;
  }

  if (cmd == nullptr) return Usage(absl::StrCat("no command given", HelpHint("")));
  const CommandSpec& spec = *cmd->spec;
  inv.args = cmd->args;
  if (inv.args.size() > spec.max_args) {
    return Usage(absl::StrCat("unexpected argument \"",
                              inv.args[spec.max_args], "\" for ", spec.name,
                              HelpHint(spec.name)));
  }
  if (inv.args.size() < spec.min_args) {
    return Usage(absl::StrCat("usage: ", spec.name, " ", spec.args_usage,
                              HelpHint(spec.name)));
  }
  for (size_t i = 0; i < spec.flags.size(); ++i) {
    const CLI::Option* opt = cmd->flags[i];
    if (opt->count() == 0) continue;
    inv.flags[spec.flags[i].name] =
        spec.flags[i].value_name.empty() ? "" : opt->results().front();
  }
  return inv;
}

std::string UsageText(const std::string& command) {
  std::unique_ptr<Parser> p = BuildParser();
  if (const CommandSpec* spec = FindCommand(command); spec != nullptr) {
    for (const Parser::Command& c : p->commands) {
      if (c.spec == spec) return c.app->help();
    }
  }
  return p->app->help("", CLI::AppFormatMode::All);
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
