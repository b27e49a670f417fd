// `repair remove-key KEY --confirm` and `repair set-version N --confirm`:
// the ways out of a refusal over bookkeeping that cannot be trusted (README,
// "When something is wrong"). Without --confirm they say what they would do
// and change nothing.
#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {

// What removing `key` does, in a sentence.
std::string Consequence(const std::string& key) {
  if (key == "_schema_version") {
    return "the database is then at its baseline version (migrating again "
           "rewrites what is not yet at each step's version)";
  }
  if (key == "_migration_progress") {
    return "the run in flight is forgotten: the records it committed stay as "
           "they are and its backup stays (delete it with backups delete)";
  }
  if (key == "_migration_history") {
    return "the whole history is removed: earlier steps can no longer be "
           "rolled back or checked against their files";
  }
  if (key == "_migration_lock") return "it is informational only";
  return "that history entry is removed and the later ones move down by one";
}

}  // namespace

absl::StatusOr<Outcome> RunRepair(CommandContext& ctx) {
  const std::string& action = ctx.inv.args[0];
  if ((action != "remove-key" && action != "set-version") ||
      ctx.inv.args.size() != 2) {
    return absl::InvalidArgumentError(
        "usage: repair remove-key KEY --confirm | repair set-version N "
        "--confirm");
  }
  const std::string& arg = ctx.inv.args[1];
  const bool confirm = ctx.inv.Has("confirm");
  int version = 0;
  if (action == "set-version") {
    int64_t v = 0;
    if (!absl::SimpleAtoi(arg, &v) || v < 0 || v > 1000000000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "set-version needs a version from 0 to 1000000000, not \"",
          EscapeBytes(arg), "\""));
    }
    version = static_cast<int>(v);
  }
  if (!confirm) {
    const std::string what =
        action == "remove-key"
            ? absl::StrCat("remove ", EscapeBytes(arg), ": ", Consequence(arg))
            : absl::StrCat("set _schema_version to ", version,
                           ", recorded in the history as a stamp");
    return absl::InvalidArgumentError(absl::StrCat(
        "repair ", action, " would ", what, "; add --confirm to do it; "
        "nothing was changed"));
  }
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadWrite));
  if (action == "remove-key") {
    RM_RETURN_IF_ERROR(opened.migrator->RemoveBookkeepingKey(arg));
    if (ctx.inv.json) {
      PrintJson(ctx, Json{{"removed", EscapeBytes(arg)}});
    } else {
      ctx.out << "removed " << EscapeBytes(arg) << "; " << Consequence(arg)
              << ". see " << Cmd(ctx, "status") << '\n';
    }
    return Outcome::kDone;
  }
  RM_RETURN_IF_ERROR(opened.migrator->SetSchemaVersion(version));
  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"schema_version", version}});
  } else {
    ctx.out << "set _schema_version to " << version << " (recorded as a stamp "
            << "in the history). see " << Cmd(ctx, "status") << '\n';
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
