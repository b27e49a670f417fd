#include "tools/cli/command_table.h"

#include "absl/strings/str_cat.h"
#include "tools/cli/commands.h"

namespace rocksmigrate::cli {

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"status", {"migration-status"}, {"check"}, 0, 0, "",
       R"(  status [--check]             current and target version, pending steps, any
                               run in flight, backups, the last history entries
                               --check: exit 0 if up to date, 4 if pending
                               (alias: migration-status)
)",
       true, true, RunStatus},
      {"health", {}, {}, 0, 0, "",
       R"(  health                       one line for readiness probes: exit 0 ready,
                               4 pending or running, 3 refused, 1 last run
                               failed; reads only the bookkeeping keys
)",
       true, true, RunHealth},
      {"migrate", {},
       {"to", "dry-run", "batch-size", "no-backup", "threads", "backup-cf",
        "metrics-file", "redo", "force"},
       0, 0, "",
       R"(  migrate [--to N]             apply pending steps (default: up to the newest)
          [--dry-run]          report what migrate would do, write nothing
          [--batch-size N]     records per committed batch (default 1000)
          [--no-backup]        faster, but the run cannot be rolled back
          [--threads N]        transform threads (default: one per core)
          [--backup-cf NAME]   keep this run's backups in column family NAME
                               (created if missing; default: the default one)
          [--metrics-file PATH]
                               keep PATH a Prometheus textfile of the run
                               (rewritten atomically every second)
  migrate --redo [--force]     development: roll the newest step back from
                               its backup and apply it again with the current
                               migration files (refused when they are
                               unchanged, unless --force)
)",
       true, true, RunMigrate},
      {"rollback", {}, {"to", "using", "dry-run", "metrics-file"}, 0, 0, "",
       R"(  rollback --to N              go back to version N: each step from its
                               backup, or, once the backup is gone, by its
                               migrations' down transforms
          [--using backup|down]
                               undo every step that way (default: auto, the
                               backup when it exists)
          [--dry-run]          report how each step would be undone, and
                               what a down pass would rewrite; write nothing
          [--metrics-file PATH]
)",
       true, true, RunRollback},
      {"abandon", {}, {"metrics-file"}, 0, 0, "",
       R"(  abandon                      give up the run in flight: restore its records
          [--metrics-file PATH]
                               from its backup, record it as aborted
)",
       true, true, RunAbandon},
      {"metrics", {}, {"metrics-file"}, 0, 0, "",
       R"(  metrics [--metrics-file PATH]
                               the Prometheus metrics of the database's
                               migrations, on stdout or written to PATH
)",
       true, true, RunMetrics},
      {"report", {}, {"validate"}, 0, 0, "",
       R"(  report [--validate]          status, history summary, backups with sizes
                               and ages, changed files, disk space and
                               recommendations in one document; --validate
                               also checks every migrated record
)",
       true, true, RunReportCommand},
      {"recommendations", {}, {}, 0, 0, "",
       R"(  recommendations              what needs attention (old backups, a stale
                               run, pending steps, a failed run, low disk, a
                               changed migration file), each with the command
                               that acts on it
)",
       true, true, RunRecommendations},
      {"history", {}, {}, 0, 0, "",
       R"(  history                      every step of every run
)",
       true, true, RunHistory},
      {"validate", {}, {}, 0, 0, "",
       R"(  validate                     every record under migrated prefixes parses and
                               carries its version; applied files unchanged
)",
       true, true, RunValidate},
      {"backups", {}, {"keep", "older-than", "force"}, 1, 2,
       "list | verify ID | delete ID [--force] | prune [--keep N] "
       "[--older-than AGE]",
       R"(  backups list | verify ID | delete ID [--force]
          | prune [--keep N] [--older-than AGE]
                               list shows each backup's age and size;
                               --force deletes a backup whose manifest is
                               unreadable; prune deletes backups older than
                               AGE (30d, 12h, 2w), keeping the newest N
)",
       true, true, RunBackups},
      {"repair", {}, {"confirm"}, 2, 2,
       "remove-key KEY --confirm | set-version N --confirm",
       R"(  repair remove-key KEY --confirm
                               remove a bookkeeping key that cannot be trusted
  repair set-version N --confirm
                               set _schema_version (recorded as a stamp)
)",
       true, true, RunRepair},
      {"create", {}, {"prefix"}, 1, 1, "NAME --prefix P",
       R"(  create NAME --prefix P       write DIR/NNNN_NAME.json for the next version
)",
       false, false, RunCreate},
  };
  return *commands;
}

const std::vector<FlagSpec>& Flags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"db", true, true,
       "  --db PATH           the database (never created by this tool)\n"},
      {"migrations", true, true,
       "  --migrations DIR    declarative migration files (default: "
       "./migrations)\n"},
      {"json", false, true,
       "  --json              print one JSON document on stdout\n"},
      {"help", false, true, "  --help              this text\n"},
      {"version", false, true,
       "  --version           the version of this build\n"},
      {"check", false, false, ""},      {"to", true, false, ""},
      {"dry-run", false, false, ""},    {"batch-size", true, false, ""},
      {"no-backup", false, false, ""},  {"threads", true, false, ""},
      {"keep", true, false, ""},        {"older-than", true, false, ""},
      {"prefix", true, false, ""},      {"backup-cf", true, false, ""},
      {"force", false, false, ""},      {"confirm", false, false, ""},
      {"metrics-file", true, false, ""}, {"redo", false, false, ""},
      {"validate", false, false, ""},   {"using", true, false, ""},
  };
  return *flags;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
    for (const std::string& alias : c.aliases) {
      if (alias == name) return &c;
    }
  }
  return nullptr;
}

const FlagSpec* FindFlag(const std::string& name) {
  for (const FlagSpec& f : Flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string UsageText() {
  std::string out =
      "rocksmigrate: migrate the schema of records stored in RocksDB\n\n"
      "usage: rocksmigrate --db PATH [--migrations DIR] [--json] COMMAND "
      "[flags]\n\ncommands:\n";
  for (const CommandSpec& c : Commands()) absl::StrAppend(&out, c.help);
  absl::StrAppend(&out, "\nglobal flags (before or after the command):\n");
  for (const FlagSpec& f : Flags()) {
    if (f.global) absl::StrAppend(&out, f.help);
  }
  absl::StrAppend(&out, R"(
environment (a flag on the command line wins):
  ROCKSMIGRATE_DB          default of --db
  ROCKSMIGRATE_MIGRATIONS  default of --migrations
  ROCKSMIGRATE_JSON        1/true/yes/on: --json; 0/false/no/off: not

status, health, metrics, report, recommendations, history, validate,
backups list/verify and migrate --dry-run only read, and work while a
server holds the database. The other commands need the database to
themselves. A refusal (exit 3) names the key, file or backup and the command
that gets out of it; see the README's "When something is wrong".

exit codes: 0 ok; 1 failed (database left consistent) or problems found;
2 bad usage or bad migration files; 3 refused (newer schema, locked,
unreadable metadata); 4 status --check found pending work; 5 interrupted by a
signal (resumable: run migrate again).
)");
  return out;
}

}  // namespace rocksmigrate::cli
