// `backups list | verify ID | delete ID [--force] | prune --keep N`.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Outcome> RunBackups(CommandContext& ctx) {
  const std::string& action = ctx.inv.args[0];
  const bool takes_id = action == "delete" || action == "verify";
  if ((action != "list" && action != "delete" && action != "prune" &&
       action != "verify") ||
      ctx.inv.args.size() != (takes_id ? 2u : 1u)) {
    return absl::InvalidArgumentError(
        "usage: backups list | backups verify ID | backups delete ID "
        "[--force] | backups prune --keep N");
  }
  if (ctx.inv.Has("keep") != (action == "prune")) {
    return absl::InvalidArgumentError(action == "prune"
                                          ? "backups prune needs --keep N"
                                          : "--keep only goes with prune");
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
      ctx.out << absl::StrFormat("%-28s v%d -> v%d  %-24s  %s records  %s  %s%s\n",
                                 b.id, b.from, b.to, b.created_at,
                                 FormatCount(b.item_count),
                                 b.complete ? "complete" : "INCOMPLETE",
                                 PrefixList(b.prefixes), where);
    }
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
  RM_ASSIGN_OR_RETURN(std::vector<std::string> deleted,
                      opened.migrator->PruneBackups(static_cast<size_t>(*keep)));
  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"deleted", deleted}});
  } else if (deleted.empty()) {
    ctx.out << "nothing to prune: at most " << *keep << " backups\n";
  } else {
    for (const std::string& id : deleted) {
      ctx.out << "deleted backup " << id << '\n';
    }
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
