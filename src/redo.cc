// Migrator::Redo(): the newest step rolled back from its backup and applied
// again with the migrations registered now (development: a migration file
// edited after it was applied). Two operations, each with its own history
// entries and its own preflight; a crash between them leaves the database
// at the lower version with the step pending, which the next migrate
// applies.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "src/migrator_impl.h"

namespace rocksmigrate {
namespace {

// Why `entry` (as applied) and `step` (as registered now) differ; empty
// when they are the same as far as the bookkeeping can tell.
std::string Difference(const HistoryEntry& entry, const Step& step) {
  std::vector<std::string> names;
  for (const Migration* m : step.migrations) names.push_back(m->name());
  if (names != entry.migrations) {
    return absl::StrCat("its migrations are now [", absl::StrJoin(names, ", "),
                        "], applied as [", absl::StrJoin(entry.migrations, ", "),
                        "]");
  }
  std::set<std::string> files;
  for (const Migration* m : step.migrations) {
    if (m->source_file().empty()) continue;
    files.insert(m->source_file());
    auto it = entry.checksums.find(m->source_file());
    if (it == entry.checksums.end()) {
      return absl::StrCat("file ", m->source_file(), " was not part of it");
    }
    if (it->second != m->checksum()) {
      return absl::StrCat("file ", m->source_file(), " changed (sha256 then ",
                          it->second.substr(0, 12), "..., now ",
                          m->checksum().substr(0, 12), "...)");
    }
  }
  for (const auto& [file, sum] : entry.checksums) {
    if (files.count(file) == 0) return absl::StrCat("file ", file, " is gone");
  }
  return "";
}

}  // namespace

absl::StatusOr<RunReport> Migrator::Impl::Redo(bool force) {
  RM_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot());
  if (snap.cursor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", snap.cursor->info.run_id, " is in flight; finish it (migrate) "
        "or give it up (abandon) before a redo; nothing was written"));
  }
  std::optional<HistoryEntry> newest;
  RM_RETURN_IF_ERROR(history_.ForEach(
      [&](const HistoryEntry& e) {
        if (e.status != StepStatus::kSuccess && e.status != StepStatus::kStamped) {
          return true;
        }
        newest = e;
        return false;
      },
      /*newest_first=*/true));
  if (!newest || newest->status != StepStatus::kSuccess ||
      newest->to != snap.current) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no applied step to redo: the database is at v", snap.current,
        newest && newest->status == StepStatus::kStamped
            ? " by a stamp (an empty database), not by a step"
            : " and the history holds no step that brought it there",
        "; nothing was written"));
  }
  const Step* step = registry_->FindStep(newest->from);
  if (step == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "step v", newest->from, " -> v", newest->to, " is no longer "
        "registered, so it cannot be applied again; nothing was written"));
  }
  const std::string difference = Difference(*newest, *step);
  if (difference.empty() && !force) {
    bool has_files = !newest->checksums.empty();
    return absl::FailedPreconditionError(absl::StrCat(
        "step v", newest->from, " -> v", newest->to, " (run ", newest->run_id,
        ") is unchanged since it was applied",
        has_files ? "" : " as far as its history can tell (C++ migrations "
                         "carry no checksum)",
        "; a redo re-applies a changed step: pass force to redo it anyway; "
        "nothing was written"));
  }
  RM_ASSIGN_OR_RETURN(RunReport down, Rollback(newest->from, RollbackMethod::kAuto));
  absl::StatusOr<RunReport> up = Migrate(newest->to);
  if (!up.ok()) {
    return absl::Status(
        up.status().code(),
        absl::StrCat("redo: step v", newest->from, " -> v", newest->to,
                     " was rolled back (the database is at v", newest->from,
                     ") but applying it again failed: ", up.status().message()));
  }
  RunReport report = std::move(*up);  // From vN-1 to vN.
  std::vector<HistoryEntry> steps = std::move(down.steps);
  for (HistoryEntry& e : report.steps) steps.push_back(std::move(e));
  report.steps = std::move(steps);
  return report;
}

}  // namespace rocksmigrate
