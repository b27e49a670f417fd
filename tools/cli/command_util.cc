#include "tools/cli/command_util.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
absl::Status WithHint(const absl::Status& status, const std::string& hint) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(status.message(), "; ", hint));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

std::string ShellWord(const std::string& path) {
  const bool plain = std::all_of(path.begin(), path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("/._-+:@%,=", c) != nullptr;
  });
  if (plain && !path.empty()) return path;
  std::string quoted = "'";
  for (char c : path) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

std::string Cmd(const CommandContext& ctx, const std::string& rest) {
  std::string cmd = absl::StrCat("rocksmigrate --db ", ShellWord(ctx.inv.db));
  if (ctx.inv.migrations_given) {
    absl::StrAppend(&cmd, " --migrations ", ShellWord(ctx.inv.migrations_dir));
  }
  return absl::StrCat("`", cmd, " ", rest, "`");
}

void PrintJson(CommandContext& ctx, const Json& doc) {
  ctx.out << DumpJson(doc) << '\n' << std::flush;
  ctx.printed_json = true;
}

std::string FlagOr(const CommandContext& ctx, const std::string& flag,
                   const std::string& otherwise) {
  auto it = ctx.inv.flags.find(flag);
  return it == ctx.inv.flags.end() ? otherwise : it->second;
}

absl::StatusOr<Opened> Open(CommandContext& ctx, OpenMode mode,
                            MigratorOptions options,
                            const std::string& create_cf) {
  Opened opened;
  auto handle = DbHandle::Open(ctx.inv.db, mode, rocksdb::Options(),
                               mode == OpenMode::kReadWrite ? create_cf : "");
  if (!handle.ok()) {
    if (absl::IsInvalidArgument(handle.status())) {
      return WithHint(handle.status(),
                      "check the --db path (rocksmigrate never creates a "
                      "database)");
    }
    if (absl::IsUnavailable(handle.status())) {
      return WithHint(handle.status(),
                      "stop it, or use a read-only command (status, history, "
                      "validate, backups list)");
    }
    return handle.status();
  }
  opened.handle = std::move(handle).value();
  options.column_families = opened.handle->column_families();
  if (!create_cf.empty()) {
    options.backup_column_family = opened.handle->column_family(create_cf);
  }
  RM_ASSIGN_OR_RETURN(opened.migrator,
                      Migrator::Create(opened.handle->db(), ctx.registry,
                                       std::move(options)));
  return opened;
}

absl::Status WithWayOut(const CommandContext& ctx, const absl::Status& status) {
  if (status.ok()) return status;
  const StatusSubject subject = SubjectOf(status);
  std::vector<std::string> ways;
  if (!subject.bookkeeping_key.empty()) {
    const std::string key = ShellWord(EscapeBytes(subject.bookkeeping_key));
    if (subject.bookkeeping_key.rfind("_backup_", 0) == 0) {
      ways.push_back(absl::StrCat("delete that backup with ",
                                  Cmd(ctx, absl::StrCat("backups delete ", key,
                                                        " --force"))));
    } else {
      ways.push_back(absl::StrCat(
          "look at it with `ldb --db=", ShellWord(ctx.inv.db), " get ", key,
          "`, then remove it with ",
          Cmd(ctx, absl::StrCat("repair remove-key ", key, " --confirm"))));
      if (subject.bookkeeping_key == "_schema_version") {
        ways.push_back(absl::StrCat(
            "or set it with ", Cmd(ctx, "repair set-version N --confirm")));
      }
    }
  }
  if (!subject.backup_id.empty()) {
    ways.push_back(absl::StrCat(
        "check it with ", Cmd(ctx, absl::StrCat("backups verify ",
                                                subject.backup_id))));
  }
  if (subject.abandon_helps) {
    ways.push_back(absl::StrCat("give the run up with ", Cmd(ctx, "abandon")));
  }
  if (ways.empty()) return status;
  return WithHint(status,
                  absl::StrCat(absl::StrJoin(ways, "; "),
                               " (README: When something is wrong)"));
}

std::string FirstLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string HistoryLine(const HistoryEntry& e) {
  std::string line = absl::StrFormat(
      "%-24s  v%d -> v%d  %-11s  %s migrated, %s skipped", e.started_at,
      e.from, e.to, ToString(e.status), FormatCount(e.items_migrated),
      FormatCount(e.items_skipped));
  if (e.items_ahead > 0) {
    absl::StrAppend(&line, " (", FormatCount(e.items_ahead),
                    " above the step's version)");
  }
  absl::StrAppend(&line, ", ", FormatMillis(e.duration_ms));
  if (e.backup_id) {
    absl::StrAppend(&line, ", backup ", *e.backup_id);
    if (!e.backup_column_family.empty() &&
        e.backup_column_family != kDefaultColumnFamilyName) {
      absl::StrAppend(&line, " (column family ",
                      EscapeBytes(e.backup_column_family), ")");
    }
  }
  if (e.mode == RunMode::kOnline) absl::StrAppend(&line, ", online");
  if (e.down) {
    absl::StrAppend(&line, e.status == StepStatus::kRolledBack
                               ? ", undone by its down transforms"
                               : ", a down pass (restored; the step stays applied)");
  }
  if (e.items_kept > 0) {
    absl::StrAppend(&line, ", ", FormatCount(e.items_kept),
                    " kept as the server rewrote them");
  }
  absl::StrAppend(&line, "  [run ", e.run_id, "]");
  if (!e.empty_prefixes.empty()) {
    absl::StrAppend(&line, "\n      note: no record under ",
                    PrefixList(e.empty_prefixes));
  }
  if (e.error) absl::StrAppend(&line, "\n      error: ", EscapeText(*e.error));
  return line;
}

std::string Names(const Step& step) {
  std::vector<std::string> names;
  for (const Migration* m : step.migrations) {
    names.push_back(absl::StrCat(m->name(), " (", EscapeBytes(m->prefix()),
                                 ")"));
  }
  return absl::StrJoin(names, ", ");
}

std::string PrefixList(const std::vector<std::string>& prefixes) {
  std::vector<std::string> escaped;
  for (const std::string& p : prefixes) {
    escaped.push_back(absl::StrCat("'", EscapeBytes(p), "'"));
  }
  return absl::StrJoin(escaped, ", ");
}

}  // namespace rocksmigrate::cli
