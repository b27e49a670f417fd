// `backups list | verify ID | delete ID [--force] |
// prune [--keep N] [--older-than AGE]`.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksmigrate/status_macros.h"
#include "src/metadata.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {

// "3d4h" from a backup's created_at to now; "?" when unreadable.
std::string AgeOf(const BackupInfo& b) {
  const std::optional<absl::Time> created = ParseIsoTime(b.created_at);
  return created ? HumanDuration(absl::Now() - *created) : "?";
}

}  // namespace

absl::StatusOr<Outcome> RunBackups(CommandContext& ctx) {
  const std::string& action = ctx.inv.args[0];
  const bool takes_id = action == "delete" || action == "verify";
  if ((action != "list" && action != "delete" && action != "prune" &&
       action != "verify") ||
      ctx.inv.args.size() != (takes_id ? 2u : 1u)) {
    return absl::InvalidArgumentError(
        "usage: backups list | backups verify ID | backups delete ID "
        "[--force] | backups prune [--keep N] [--older-than AGE]");
  }
  if (action == "prune" && !ctx.inv.Has("keep") && !ctx.inv.Has("older-than")) {
    return absl::InvalidArgumentError(
        "backups prune needs --keep N (the newest N stay), --older-than AGE "
        "(e.g. 30d, 12h: older ones go) or both (--keep is then a floor); "
        "nothing was deleted");
  }
  if (action != "prune" && (ctx.inv.Has("keep") || ctx.inv.Has("older-than"))) {
    return absl::InvalidArgumentError(
        "--keep and --older-than only go with backups prune");
  }
  if (ctx.inv.Has("force") && action != "delete") {
    return absl::InvalidArgumentError("--force only goes with backups delete");
  }

  if (action == "list") {
    RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
    RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups,
                        opened.migrator->ListBackups());
    if (ctx.inv.json) {
      Json list = Json::array();
      for (const BackupInfo& b : backups) list.push_back(BackupToJson(b));
      PrintJson(ctx, Json{{"database", ctx.inv.db},
                          {"backups", std::move(list)}});
      return Outcome::kDone;
    }
    if (backups.empty()) {
      ctx.out << "no backups in " << ctx.inv.db << '\n';
      return Outcome::kDone;
    }
    uint64_t total_bytes = 0;
    for (const BackupInfo& b : backups) {
      const std::string where =
          b.column_family == kDefaultColumnFamilyName
              ? std::string()
              : absl::StrCat("  [column family ", EscapeBytes(b.column_family),
                             "]");
      if (!b.readable) {
        ctx.out << absl::StrFormat("%-28s UNREADABLE: %s%s\n", b.id,
                                   EscapeText(b.problem), where);
        continue;
      }
      ctx.out << absl::StrFormat(
          "%-28s v%d -> v%d  %-24s (%s ago)  %s records  %s  %s  %s%s\n",
          b.id, b.from, b.to, b.created_at, AgeOf(b), FormatCount(b.item_count),
          FormatBytes(b.approximate_bytes),
          b.complete ? "complete" : "INCOMPLETE", PrefixList(b.prefixes),
          where);
      total_bytes += b.approximate_bytes;
    }
    ctx.out << backups.size() << " backup" << (backups.size() == 1 ? "" : "s")
            << ", about " << FormatBytes(total_bytes) << '\n';
    return Outcome::kDone;
  }

  if (action == "verify") {
    const std::string& id = ctx.inv.args[1];
    RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
    absl::StatusOr<BackupVerification> v = opened.migrator->VerifyBackup(id);
    if (absl::IsNotFound(v.status())) {
      return WithHint(v.status(), absl::StrCat("list them with ",
                                               Cmd(ctx, "backups list")));
    }
    RM_RETURN_IF_ERROR(v.status());
    if (ctx.inv.json) {
      Json doc = BackupToJson(v->backup);
      doc["records_present"] = v->records_present;
      doc["records_outside_prefixes"] = v->records_outside_prefixes;
      doc["ok"] = v->status.ok();
      doc["error"] = v->status.ok() ? Json(nullptr)
                                    : Json(EscapeText(v->status.message()));
      PrintJson(ctx, doc);
    } else if (v->status.ok()) {
      ctx.out << "backup " << id << " is whole: "
              << FormatCount(v->records_present)
              << " records, as its manifest says\n";
    }
    if (!v->status.ok()) {
      ctx.err << "error: " << EscapeText(v->status.message()) << '\n';
      return Outcome::kProblems;
    }
    return Outcome::kDone;
  }

  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite));
  if (action == "delete") {
    const std::string& id = ctx.inv.args[1];
    absl::Status s = opened.migrator->DeleteBackup(id, ctx.inv.Has("force"));
    if (absl::IsNotFound(s)) {
      return WithHint(s, absl::StrCat("list them with ",
                                      Cmd(ctx, "backups list")));
    }
    if (absl::IsFailedPrecondition(s) && !ctx.inv.Has("force") &&
        SubjectOf(s).bookkeeping_key.empty()) {
      return s;
    }
    RM_RETURN_IF_ERROR(s);
    if (ctx.inv.json) {
      PrintJson(ctx, Json{{"deleted", Json::array({id})}});
    } else {
      ctx.out << "deleted backup " << id << '\n';
    }
    return Outcome::kDone;
  }
  RM_ASSIGN_OR_RETURN(std::optional<int64_t> keep,
                      IntFlag(ctx.inv, "keep", 0, 1000000000));
  RM_ASSIGN_OR_RETURN(std::optional<absl::Duration> older_than,
                      AgeFlag(ctx.inv, "older-than"));
  RetentionPolicy policy;
  policy.keep = static_cast<size_t>(keep.value_or(0));
  policy.older_than = older_than;
  RM_ASSIGN_OR_RETURN(std::vector<std::string> deleted,
                      opened.migrator->PruneBackups(policy));
  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"deleted", deleted}});
  } else if (deleted.empty()) {
    ctx.out << "nothing to prune: ";
    if (older_than) {
      ctx.out << "no backup older than " << ctx.inv.flags.at("older-than");
      if (keep) ctx.out << " beyond the newest " << *keep;
      ctx.out << '\n';
    } else {
      ctx.out << "at most " << *keep << " backups\n";
    }
  } else {
    for (const std::string& id : deleted) {
      ctx.out << "deleted backup " << id << '\n';
    }
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
