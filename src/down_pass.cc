// The down pass of a rollback (src/step_state.h): an applied step undone by
// its migrations' down transforms, run through the migrating phase
// (MigrateRecords) over a step that goes from `to` to `from` (DownOf), with
// a backup of every record it rewrites so that an item error restores them.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/down_of.h"
#include "src/fault_point.h"
#include "src/migrator_impl.h"

namespace rocksmigrate {
absl::StatusOr<std::optional<Cursor>> Migrator::Impl::ContinueDown(
    Cursor cursor, std::vector<Undo>* rest, RunReport* report) {
  const std::string step_name =
      absl::StrCat("v", cursor.info.from, " -> v", cursor.info.to);
  // No VerifyDownable() here: every cursor that gets here was checked
  // before the call's first write. A down pass found in flight (ActionFor():
  // kFinishRollback) by VerifyDownable() in PreflightMigrate() or
  // PreflightRollback(), the only calls that go on with one (Abandon() turns
  // it into a restore); a down pass the call starts (RollbackCursor(), from
  // the plan's undos) by DownProblem() in PlanUndos(), which checks what
  // VerifyDownable() checks of a fresh cursor: the registered step, its
  // migrations' names and files, a down for each.
  const Step* up = registry_->FindStep(cursor.info.from);
  if (up == nullptr) {
    return absl::InternalError(absl::StrCat(
        "the preflight let the down pass of step ", step_name,
        " through without its step"));
  }
  std::vector<std::unique_ptr<DownOf>> owned;
  Step down;
  down.from = up->to;
  down.to = up->from;
  for (const Migration* m : up->migrations) {
    owned.push_back(std::make_unique<DownOf>(*m));
    down.migrations.push_back(owned.back().get());
  }

  const absl::Time t0 = options_.clock();
  RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                      backups_.Resolve(cursor.info.backup_column_family));
  StepResult r = MigrateRecords(env_, down, cf, &cursor);
  cursor.elapsed_ms += MillisSince(t0);

  switch (r.kind) {
    case StepResult::Kind::kDone: {
      FaultPoint("before_down_finish");
      Outcome o;
      o.status = StepStatus::kRolledBack;
      o.backup_change = Outcome::BackupChange::kDelete;
      int version = cursor.info.from;
      RM_ASSIGN_OR_RETURN(size_t taken, PlanNext(cursor, *rest, &o, &version));
      o.version = version;
      RM_ASSIGN_OR_RETURN(
          HistoryEntry entry,
          RecordOutcome(&cursor, o,
                        absl::StrCat("recording the down pass of step ",
                                     step_name)));
      report->steps.push_back(std::move(entry));
      for (HistoryEntry& u : o.unstamps) {
        u.status = StepStatus::kRolledBack;
        report->steps.push_back(std::move(u));
      }
      report->to_version = version;
      if (!o.next) return std::optional<Cursor>();
      rest->erase(rest->begin(),
                  rest->begin() + static_cast<std::ptrdiff_t>(taken) + 1);
      return std::optional<Cursor>(std::move(*o.next));
    }
    case StepResult::Kind::kStopped:
      return absl::CancelledError(absl::StrCat(
          r.message, "; the down pass is committed up to there and finishes "
                     "first whatever runs next"));
    case StepResult::Kind::kItemError: {
      cursor.info.error = r.message;
      absl::Status verified = VerifiedBackupOf(cursor).status();
      if (!verified.ok()) {
        // Its own backup cannot be trusted: the pass stays in flight, every
        // record wholly at `to` or wholly at `from`.
        return absl::Status(
            verified.code(),
            absl::StrCat(r.message, "; the down pass was not undone: ",
                         verified.message()));
      }
      RM_RETURN_IF_ERROR(BeginRestore(&cursor, RestoreReason::kItemError,
                                      std::nullopt));
      RM_RETURN_IF_ERROR(FinishRestore(std::move(cursor), {}, report));
      return absl::InternalError("a restore after an item error returned OK");
    }
    case StepResult::Kind::kFailed:
      return r.status;  // The committed batches stand; resumable.
  }
  return absl::InternalError("unknown step result");
}

}  // namespace rocksmigrate
