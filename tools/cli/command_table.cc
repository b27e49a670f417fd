#include "tools/cli/command_table.h"

#include "tools/cli/commands.h"

namespace rocksmigrate::cli {
namespace {

// Flags that several commands share, with the same meaning.
FlagSpec MetricsFileFlag() {
  return {"metrics-file", "PATH",
          "keep PATH a Prometheus textfile of the run (rewritten atomically "
          "every second)"};
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"status",
       {"migration-status"},
       "current and target version, pending steps, any run in flight, "
       "backups, the last history entries",
       {{"check", "", "exit 0 if up to date, 4 if migrations are pending"}},
       0, 0, "", true, true, RunStatus},
      {"health",
       {},
       "one line for readiness probes: exit 0 ready, 4 pending or running, "
       "3 refused, 1 last run failed; reads only the bookkeeping keys",
       {}, 0, 0, "", true, true, RunHealth},
      {"migrate",
       {},
       "apply pending steps (default: up to the newest)",
       {{"to", "N", "stop at version N"},
        {"dry-run", "", "report what migrate would do; write nothing"},
        {"batch-size", "N", "records per committed batch (default 1000)"},
        {"no-backup", "", "faster, but the run cannot be rolled back"},
        {"threads", "N", "transform threads (default: one per core)"},
        {"backup-cf", "NAME",
         "keep this run's backups in column family NAME (created if "
         "missing; default: the default one)"},
        MetricsFileFlag(),
        {"redo", "",
         "development: roll the newest step back from its backup and apply "
         "it again with the current migration files (refused when they are "
         "unchanged, unless --force)"},
        {"force", "", "with --redo: redo an unchanged step"}},
       0, 0, "", true, true, RunMigrate},
      {"rollback",
       {},
       "go back to version N (--to N): each step from its backup, or, once "
       "the backup is gone, by its migrations' down transforms",
       {{"to", "N", "the version to go back to (required)"},
        {"using", "backup|down",
         "undo every step that way (default: auto, the backup when it "
         "exists)"},
        {"dry-run", "",
         "report how each step would be undone, and what a down pass would "
         "rewrite; write nothing"},
        MetricsFileFlag()},
       0, 0, "", true, true, RunRollback},
      {"abandon",
       {},
       "give up the run in flight: restore its records from its backup, "
       "record it as aborted",
       {MetricsFileFlag()},
       0, 0, "", true, true, RunAbandon},
      {"metrics",
       {},
       "the Prometheus metrics of the database's migrations, on stdout or "
       "written to PATH",
       {{"metrics-file", "PATH", "write the metrics to PATH atomically"}},
       0, 0, "", true, true, RunMetrics},
      {"report",
       {},
       "status, history summary, backups with sizes and ages, changed "
       "files, disk space and recommendations in one document",
       {{"validate", "", "also check every migrated record"}},
       0, 0, "", true, true, RunReportCommand},
      {"recommendations",
       {},
       "what needs attention (old backups, a stale run, pending steps, a "
       "failed run, low disk, a changed migration file), each with the "
       "command that acts on it",
       {}, 0, 0, "", true, true, RunRecommendations},
      {"history", {}, "every step of every run", {}, 0, 0, "", true, true,
       RunHistory},
      {"validate",
       {},
       "every record under migrated prefixes parses and carries its "
       "version; applied files unchanged",
       {}, 0, 0, "", true, true, RunValidate},
      {"backups",
       {},
       "list the backups with their ages and sizes, verify one, delete one, "
       "or prune the old ones",
       {{"keep", "N", "prune: keep the newest N backups"},
        {"older-than", "AGE",
         "prune: delete backups older than AGE (30d, 12h, 2w)"},
        {"force", "", "delete: delete a backup whose manifest is unreadable"}},
       1, 2,
       "list | verify ID | delete ID [--force] | prune [--keep N] "
       "[--older-than AGE]",
       true, true, RunBackups},
      {"repair",
       {},
       "remove-key KEY: remove a bookkeeping key that cannot be trusted; "
       "set-version N: set _schema_version (recorded as a stamp)",
       {{"confirm", "", "required: the repair writes to the database"}},
       2, 2, "remove-key KEY --confirm | set-version N --confirm", true, true,
       RunRepair},
      {"create",
       {},
       "write DIR/NNNN_NAME.json for the next version",
       {{"prefix", "P", "the key prefix the migration rewrites (required)"}},
       1, 1, "NAME --prefix P", false, false, RunCreate},
  };
  return *commands;
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"db", "PATH", "the database (never created by this tool)"},
      {"migrations", "DIR",
       "declarative migration files (default: ./migrations)"},
      {"json", "", "print one JSON document on stdout"},
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

const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name) {
  for (const FlagSpec& f : command.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool AnyCommandTakes(const std::string& name) {
  for (const CommandSpec& c : Commands()) {
    if (FindFlag(c, name) != nullptr) return true;
  }
  return false;
}

std::string UsageFooter() {
  return R"(Environment (a flag on the command line wins):
  ROCKSMIGRATE_DB          default of --db
  ROCKSMIGRATE_MIGRATIONS  default of --migrations
  ROCKSMIGRATE_JSON        1/true/yes/on: --json; 0/false/no/off: not

`rocksmigrate COMMAND --help` shows one command's flags.

status, health, metrics, report, recommendations, history, validate,
backups list/verify and migrate --dry-run only read, and work while a
server holds the database. The other commands need the database to
themselves. A refusal (exit 3) names the key, file or backup and the command
that gets out of it; see the README's "When something is wrong".

Exit codes: 0 ok; 1 failed (database left consistent) or problems found;
2 bad usage or bad migration files; 3 refused (newer schema, locked,
unreadable metadata); 4 status --check found pending work; 5 interrupted by a
signal (resumable: run migrate again).
)";
}

}  // namespace rocksmigrate::cli
