// The preflight: everything that can refuse a call, checked before its first
// write (SPEC §8.12). Reads the bookkeeping strictly, verifies each key
// against the others, the registry and the backups, and plans the call.
#include <algorithm>
#include <set>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "src/disk_space.h"
#include "src/keys.h"
#include "src/migrator_impl.h"
#include "src/step_state.h"

namespace rocksmigrate {
namespace {

constexpr char kFilePayload[] = "type.rocksmigrate/migration_file";
constexpr char kAbandonPayload[] = "type.rocksmigrate/abandon_helps";
constexpr char kBackupPayload[] = "type.rocksmigrate/backup_id";

std::string StepName(int from, int to) {
  return absl::StrCat("v", from, " -> v", to);
}

// A refusal about the run in flight that giving it up would clear.
absl::Status InFlightRefusal(const Cursor& c, std::string what,
                             const std::string& file = "") {
  std::string way_out =
      c.backup
          ? absl::StrCat("or abandon the run (its records are restored from "
                         "backup ", *c.info.backup_id, ") and migrate again")
          : "this step runs without backups and cannot be abandoned";
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "run ", c.info.run_id, " is in flight in step ",
      StepName(c.info.from, c.info.to), ": ", what, "; ", way_out,
      "; nothing was written"));
  if (!file.empty()) s.SetPayload(kFilePayload, absl::Cord(file));
  if (c.backup) s.SetPayload(kAbandonPayload, absl::Cord("1"));
  return s;
}

bool UnderOneOf(std::string_view key, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) {
    for (const KeyRange& r : UserRanges(p)) {
      if (key >= r.begin && (!r.end || key < *r.end)) return true;
    }
  }
  return false;
}

absl::Status WithBackup(absl::Status s, const std::string& id) {
  s.SetPayload(kBackupPayload, absl::Cord(id));
  return s;
}

}  // namespace

StatusSubject SubjectOf(const absl::Status& status) {
  StatusSubject subject;
  subject.bookkeeping_key = BookkeepingKeyOf(status);
  if (auto v = status.GetPayload(kBackupPayload)) subject.backup_id = std::string(*v);
  if (auto v = status.GetPayload(kFilePayload)) subject.migration_file = std::string(*v);
  subject.abandon_helps = status.GetPayload(kAbandonPayload).has_value();
  return subject;
}

int Migrator::Impl::NewestVersion() const {
  return registry_->target_version(options_.baseline_version);
}

absl::StatusOr<Migrator::Impl::Snapshot> Migrator::Impl::ReadSnapshot() const {
  Snapshot snap;
  RM_ASSIGN_OR_RETURN(snap.stored, meta_.ReadVersion());
  snap.current = snap.stored.value_or(options_.baseline_version);
  RM_ASSIGN_OR_RETURN(snap.cursor, meta_.ReadCursor());
  RM_ASSIGN_OR_RETURN(snap.history, history_.ReadLayout());
  RM_ASSIGN_OR_RETURN(bool has_records, meta_.HasUserRecords());
  snap.empty = !has_records;
  RM_RETURN_IF_ERROR(VerifyVersionAgainstHistory(snap));
  if (snap.cursor) RM_RETURN_IF_ERROR(VerifyCursor(snap, *snap.cursor));
  return snap;
}

absl::Status Migrator::Impl::VerifyVersionAgainstHistory(
    const Snapshot& snap) const {
  // The newest entry that set the version and still stands (a success or a
  // stamp; a rollback turns what it undoes into rolled_back) says where the
  // database must be. A version that disagrees was set behind the history's
  // back (a restore of an old `_schema_version`, a stray write): trusting it
  // would migrate records twice or leave them unmigrated.
  std::optional<HistoryEntry> last;
  RM_RETURN_IF_ERROR(history_.ForEach(
      [&](const HistoryEntry& e) {
        if (e.status != StepStatus::kSuccess &&
            e.status != StepStatus::kStamped) {
          return true;
        }
        last = e;
        return false;
      },
      /*newest_first=*/true));
  if (!last || last->to == snap.current) return absl::OkStatus();
  return BookkeepingError(
      kSchemaVersionKey,
      absl::StrCat(snap.stored ? absl::StrCat("it holds v", *snap.stored)
                               : std::string("it is absent (the baseline v") +
                                     std::to_string(snap.current) + ")",
                   " but the history's newest standing entry (",
                   ToString(last->status), " v", last->from, " -> v", last->to,
                   ", run ", last->run_id, ") left the database at v",
                   last->to));
}

absl::Status Migrator::Impl::CheckNotNewer(const Snapshot& snap) const {
  if (snap.stored && *snap.stored > NewestVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's schema version v", *snap.stored,
        " is newer than this binary supports (newest known: v",
        NewestVersion(),
        "); run a newer binary, or roll back with the binary that migrated "
        "it; nothing was written"));
  }
  return absl::OkStatus();
}

absl::Status Migrator::Impl::VerifyCursor(const Snapshot& snap,
                                          const Cursor& c) const {
  const InFlight& i = c.info;
  auto bad = [](std::string why) { return BookkeepingError(kProgressKey, why); };
  const InFlightAction action = ActionFor(i);
  const std::string step = StepName(i.from, i.to);

  // The version: a step in flight sits on top of its `from`; so does the
  // rollback of a step that never finished, while the rollback of a
  // finished step keeps `to` until its restore is recorded (below, once the
  // manifest says which).
  if (i.down) {
    // A down pass (or the restore of one) keeps the step applied until it
    // is recorded.
    if (snap.current != i.to) {
      return bad(absl::StrCat("the down pass of step ", step, " is in flight "
                              "but the database is at v", snap.current));
    }
  } else if (action != InFlightAction::kFinishRollback &&
             snap.current != i.from) {
    return bad(absl::StrCat("step ", step, " is in flight but the database "
                            "is at v", snap.current));
  }
  if (i.state == StepState::kMigrating && i.items_restored != 0) {
    return bad("a migrating step counts restored records");
  }

  // The backup: it exists where the cursor says, belongs to this run and
  // step, and is consistent with the counts.
  std::optional<BackupInfo> manifest;
  if (c.backup) {
    absl::StatusOr<std::optional<BackupInfo>> got =
        backups_.Get(*i.backup_id, i.backup_column_family);
    if (!got.ok()) return WithBackup(got.status(), *i.backup_id);
    if (!*got) {
      return bad(absl::StrCat("its backup ", *i.backup_id, " does not exist"));
    }
    manifest = std::move(**got);
    if (manifest->run_id != i.run_id || manifest->from != i.from ||
        manifest->to != i.to) {
      return bad(absl::StrCat(
          "its backup ", *i.backup_id, " belongs to run ", manifest->run_id,
          " step ", StepName(manifest->from, manifest->to),
          manifest->down ? " (a down pass)" : "",
          " (its manifest's fields \"run_id\", \"from\" and \"to\"), not "
          "to the run in flight, run ", i.run_id, " step ", step,
          "; the manifest or the cursor was changed since the run wrote "
          "them: put back the one that was"));
    }
    if (manifest->down != i.down) {
      return bad(absl::StrCat(
          "its backup ", *i.backup_id, " is ",
          manifest->down ? "a down pass's (its manifest says \"down\": true)"
                         : "a step's (its manifest has no \"down\": true)",
          ", but the run in flight is ", i.down ? "the down pass of " : "",
          "step ", step, i.down ? "" : ", not a down pass",
          "; the manifest or the cursor was changed since the run wrote "
          "them: put back the one that was"));
    }
    if ((action == InFlightAction::kResumeStep || i.down) &&
        manifest->complete) {
      return bad(absl::StrCat("its backup ", *i.backup_id,
                              " is complete, but the step is in flight"));
    }
    if (action == InFlightAction::kFinishRollback && !i.down &&
        snap.current != (manifest->complete ? i.to : i.from)) {
      return bad(absl::StrCat("the rollback of step ", step, " (backup ",
                              manifest->complete ? "complete" : "incomplete",
                              ") is in flight but the database is at v",
                              snap.current));
    }
    if (i.state == StepState::kMigrating) {
      if (c.prefix_index >= manifest->prefixes.size()) {
        return bad(absl::StrCat("its prefix index ", c.prefix_index,
                                " is out of range (the step has ",
                                manifest->prefixes.size(), " prefixes)"));
      }
      const std::string& prefix = manifest->prefixes[c.prefix_index];
      if (c.has_last_key && i.prefix != prefix) {
        return bad(absl::StrCat("its prefix '", PrintableKey(i.prefix),
                                "' is not the step's prefix number ",
                                c.prefix_index, " ('", PrintableKey(prefix),
                                "')"));
      }
      if (c.has_last_key && !UnderOneOf(i.last_key, {prefix})) {
        return bad(absl::StrCat("its last key '", PrintableKey(i.last_key),
                                "' lies outside the prefix '",
                                PrintableKey(prefix), "'"));
      }
    }
    const uint64_t backed_up =
        manifest->complete ? manifest->item_count : i.items_migrated;
    if (i.items_restored + i.items_kept > backed_up) {
      return bad(absl::StrCat("it counts ", i.items_restored,
                              " records restored and ", i.items_kept,
                              " kept of ", backed_up, " backed up"));
    }
    if (i.state == StepState::kRollingBack && c.has_last_key &&
        !UnderOneOf(i.last_key, manifest->prefixes)) {
      return bad(absl::StrCat("its last restored key '",
                              PrintableKey(i.last_key),
                              "' lies outside the backup's prefixes"));
    }
  }

  return absl::OkStatus();
}

absl::Status Migrator::Impl::VerifyResumable(const Cursor& c) const {
  const InFlight& i = c.info;
  auto bad = [](std::string why) { return BookkeepingError(kProgressKey, why); };
  const std::string step = StepName(i.from, i.to);
  // A step to resume must be the step that started, migration for
  // migration, file for file: a changed definition would apply two versions
  // of the step to one database.
  const Step* registered = registry_->FindStep(i.from);
  if (registered == nullptr || registered->to != i.to) {
    return InFlightRefusal(
        c, absl::StrCat("the registered migrations define no step ", step,
                        "; register its migrations as they were to resume"));
  }
  std::vector<std::string> names;
  for (const Migration* m : registered->migrations) names.push_back(m->name());
  if (names != c.migrations) {
    return InFlightRefusal(
        c, absl::StrCat("the step's migrations are now [",
                        absl::StrJoin(names, ", "), "] but the run started "
                        "with [", absl::StrJoin(c.migrations, ", "),
                        "]; restore the migrations it started with to resume"));
  }
  std::set<std::string> files;
  for (const Migration* m : registered->migrations) {
    const std::string file = m->source_file();
    if (file.empty()) continue;
    files.insert(file);
    auto it = c.checksums.find(file);
    if (it == c.checksums.end()) {
      return InFlightRefusal(
          c, absl::StrCat("migration file ", file,
                          " was not part of the step when the run started; "
                          "remove it to resume"),
          file);
    }
    if (it->second != m->checksum()) {
      return InFlightRefusal(
          c, absl::StrCat("migration file ", file, " changed since the run "
                          "started the step (sha256 then ", it->second.substr(0, 12),
                          "..., now ", m->checksum().substr(0, 12),
                          "...): resuming would apply two versions of it to "
                          "one step; put the file back as it was to resume"),
          file);
    }
  }
  for (const auto& [file, sum] : c.checksums) {
    if (files.count(file) == 0) {
      return InFlightRefusal(
          c, absl::StrCat("migration file ", file, " (sha256 ",
                          sum.substr(0, 12), "...) was applied by the run but "
                          "is no longer loaded; put it back to resume"),
          file);
    }
  }
  if (c.prefix_index >= registered->migrations.size()) {
    return bad(absl::StrCat("its prefix index ", c.prefix_index,
                            " is out of range (the step has ",
                            registered->migrations.size(), " prefixes)"));
  }
  if (c.has_last_key) {
    const std::string prefix = registered->migrations[c.prefix_index]->prefix();
    if (i.prefix != prefix) {
      return bad(absl::StrCat("its prefix '", PrintableKey(i.prefix),
                              "' is not the step's prefix number ",
                              c.prefix_index, " ('", PrintableKey(prefix),
                              "')"));
    }
    if (!UnderOneOf(i.last_key, {prefix})) {
      return bad(absl::StrCat("its last key '", PrintableKey(i.last_key),
                              "' lies outside the prefix '",
                              PrintableKey(prefix), "'"));
    }
  }
  return absl::OkStatus();
}

std::string Migrator::Impl::DownProblem(
    int from, int to, const std::vector<std::string>& migrations,
    const std::map<std::string, std::string>& checksums) const {
  const Step* registered = registry_->FindStep(from);
  if (registered == nullptr || registered->to != to) {
    return absl::StrCat("the registered migrations define no step ",
                        StepName(from, to));
  }
  std::vector<std::string> names;
  for (const Migration* m : registered->migrations) names.push_back(m->name());
  if (names != migrations) {
    return absl::StrCat("the step's migrations are now [",
                        absl::StrJoin(names, ", "), "] but it was applied with [",
                        absl::StrJoin(migrations, ", "), "]");
  }
  std::set<std::string> files;
  for (const Migration* m : registered->migrations) {
    const std::string file = m->source_file();
    if (!file.empty()) {
      files.insert(file);
      auto it = checksums.find(file);
      if (it == checksums.end()) {
        return absl::StrCat("migration file ", file,
                            " was not part of the step when it was applied");
      }
      if (it->second != m->checksum()) {
        return absl::StrCat(
            "migration file ", file, " changed since the step was applied "
            "(sha256 then ", it->second.substr(0, 12), "..., now ",
            m->checksum().substr(0, 12),
            "...): its down may not undo what its patch did; put the file "
            "back as it was");
      }
    }
    if (!m->has_down()) {
      return absl::StrCat("migration ", m->name(),
                          file.empty() ? "" : absl::StrCat(" (", file, ")"),
                          " has no down transform");
    }
  }
  for (const auto& [file, sum] : checksums) {
    if (files.count(file) == 0) {
      return absl::StrCat("migration file ", file, " (sha256 ",
                          sum.substr(0, 12), "...) applied the step but is no "
                          "longer loaded");
    }
  }
  return {};
}

absl::Status Migrator::Impl::VerifyDownable(const Cursor& c) const {
  const std::string problem =
      DownProblem(c.info.from, c.info.to, c.migrations, c.checksums);
  if (!problem.empty()) {
    return InFlightRefusal(
        c, absl::StrCat("its down pass cannot go on: ", problem,
                        "; restore the migrations it started with"));
  }
  return VerifyResumable(c);  // The prefix index and last key.
}

absl::StatusOr<BackupInfo> Migrator::Impl::VerifiedBackupOf(
    const Cursor& c) const {
  absl::StatusOr<std::optional<BackupInfo>> got =
      backups_.Get(*c.info.backup_id, c.info.backup_column_family);
  if (!got.ok()) return WithBackup(got.status(), *c.info.backup_id);
  if (!*got) {
    return BookkeepingError(kProgressKey,
                            absl::StrCat("its backup ", *c.info.backup_id,
                                         " does not exist"));
  }
  const BackupInfo& info = **got;
  const uint64_t expected =
      info.complete ? info.item_count : c.info.items_migrated;
  RM_ASSIGN_OR_RETURN(BackupVerification v, backups_.Verify(info, expected));
  if (!v.status.ok()) {
    return WithBackup(
        absl::DataLossError(absl::StrCat(v.status.message(),
                                         "; nothing more was changed")),
        info.id);
  }
  return info;
}

absl::StatusOr<std::vector<Migrator::Impl::Undo>> Migrator::Impl::PlanUndos(
    int from, int target, bool empty, RollbackMethod method) const {
  std::vector<Undo> undos;
  int v = from;
  absl::Status refusal;
  absl::Status s = history_.ForEach(
      [&](const HistoryEntry& e) {
        if (v <= target) return false;
        if (e.to != v) return true;
        if (e.status == StepStatus::kSuccess && e.from == v - 1) {
          undos.push_back(Undo{e, std::nullopt});
          v = e.from;
        } else if (e.status == StepStatus::kStamped && e.from < v) {
          if (target > e.from) {
            refusal = absl::FailedPreconditionError(absl::StrCat(
                "v", e.from, " -> v", e.to, " was stamped as a whole (run ",
                e.run_id, "): it is undone as a whole, down to v", e.from,
                " or below; nothing was changed"));
            return false;
          }
          undos.push_back(Undo{e, std::nullopt});
          v = e.from;
        }
        return true;
      },
      /*newest_first=*/true);
  RM_RETURN_IF_ERROR(s);
  RM_RETURN_IF_ERROR(refusal);
  if (v > target) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot roll back step ", StepName(v - 1, v),
        ": the history has no successful run of it (the database was "
        "stamped or migrated without a history); nothing was changed"));
  }
  for (Undo& u : undos) {
    const HistoryEntry& e = u.entry;
    const std::string step = StepName(e.from, e.to);
    if (u.unstamp()) {
      if (!empty) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot undo the stamp ", step, " (run ", e.run_id,
            "): records were written since, so they may need v", e.to,
            "; a stamp is undone only while the database is empty; nothing "
            "was changed"));
      }
      continue;
    }
    const std::string down_problem =
        method == RollbackMethod::kBackup
            ? std::string()
            : DownProblem(e.from, e.to, e.migrations, e.checksums);
    if (method == RollbackMethod::kDown) {
      if (!down_problem.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot undo step ", step, " (run ", e.run_id,
            ") with its down transforms: ", down_problem,
            "; nothing was changed"));
      }
      u.down = true;
      continue;
    }
    // kAuto: the backup when it exists, else the down transforms.
    const std::string no_down =
        method == RollbackMethod::kAuto
            ? absl::StrCat(", and it cannot be undone by down transforms: ",
                           down_problem)
            : std::string();
    if (!e.backup_id) {
      if (method == RollbackMethod::kAuto && down_problem.empty()) {
        u.down = true;
        continue;
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot roll back step ", step, " (run ", e.run_id,
          "): it ran without backups", no_down, "; nothing was changed"));
    }
    absl::StatusOr<std::optional<BackupInfo>> got =
        backups_.Get(*e.backup_id, e.backup_column_family);
    if (!got.ok()) return WithBackup(got.status(), *e.backup_id);
    if (!*got && method == RollbackMethod::kAuto && down_problem.empty()) {
      u.down = true;
      continue;
    }
    if (*got && (*got)->down) {
      // A down pass's backup holds the records at `to`: restoring it would
      // leave them there under a version that says the step is undone. No
      // step's entry names one (a down pass takes a new id).
      return BookkeepingError(
          *e.backup_id,
          absl::StrCat(
              "field \"down\" is true, the mark of a down pass's backup (the "
              "records at v", e.to, "), but history entry ",
              HistoryEntryKey(e.sequence), " (run ", e.run_id,
              ") names it as the backup of step ", step, " (the records at v",
              e.from, "); put the field back as the step wrote it (absent), "
              "or undo the step without this backup (by its down "
              "transforms)"));
    }
    if (*got && ((*got)->from != e.from || (*got)->to != e.to)) {
      // The manifest and the entry disagree on the step: a relabelled
      // manifest, or an entry naming another step's backup (of the same run
      // and count, which the check below lets through). Either way the
      // records may be another step's, at another version: restoring them
      // would not undo this one.
      return BookkeepingError(
          *e.backup_id,
          absl::StrCat(
              "fields \"from\" and \"to\" say it is the backup of step ",
              StepName((*got)->from, (*got)->to), ", but history entry ",
              HistoryEntryKey(e.sequence), " (run ", e.run_id,
              ") names it (field \"backup_id\") as the backup of step ", step,
              "; the manifest or the entry was changed since the step wrote "
              "them: put back the one that was (the step's manifest says "
              "\"from\": ", e.from, ", \"to\": ", e.to, "), or undo the step "
              "without this backup (by its down transforms)"));
    }
    if (!*got || !(*got)->complete) {
      return WithBackup(
          absl::FailedPreconditionError(absl::StrCat(
              "cannot roll back step ", step, ": its backup ", *e.backup_id,
              *got ? " is incomplete" : " was deleted",
              *got ? std::string() : no_down, "; nothing was changed")),
          *e.backup_id);
    }
    const BackupInfo& info = **got;
    if (info.run_id != e.run_id || info.item_count != e.items_migrated) {
      return WithBackup(
          absl::DataLossError(absl::StrCat(
              "backup ", info.id, " does not match step ", step, " of run ",
              e.run_id, " (it counts ", info.item_count, " records of run ",
              info.run_id, "; the step migrated ", e.items_migrated,
              "); nothing was changed")),
          info.id);
    }
    RM_ASSIGN_OR_RETURN(BackupVerification ver,
                        backups_.Verify(info, info.item_count));
    if (!ver.status.ok()) {
      return WithBackup(absl::DataLossError(absl::StrCat(
                            ver.status.message(), "; nothing was changed")),
                        info.id);
    }
    u.backup = info;
  }
  return undos;
}

absl::Status Migrator::Impl::CheckDiskSpace(
    const std::vector<Step>& steps) const {
  if (!options_.backup || steps.empty()) return absl::OkStatus();
  std::vector<KeyRange> ranges;
  for (const Step& step : steps) {
    for (const Migration* m : step.migrations) {
      for (KeyRange& r : UserRanges(m->prefix())) ranges.push_back(std::move(r));
    }
  }
  return CheckDiskSpaceForStep(db_, ranges, backups_.write_cf());
}

absl::StatusOr<Migrator::Impl::MigratePlan> Migrator::Impl::PreflightMigrate(
    std::optional<int> target) const {
  MigratePlan plan;
  RM_ASSIGN_OR_RETURN(plan.snap, ReadSnapshot());
  const Snapshot& snap = plan.snap;
  const int newest = NewestVersion();
  plan.goal = target.value_or(newest);
  if (plan.goal > newest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no migration goes to v", plan.goal, "; the newest known version is v",
        newest));
  }
  int from = snap.current;
  if (snap.cursor) {
    const Cursor& c = *snap.cursor;
    plan.action = ActionFor(c.info);
    switch (*plan.action) {
      case InFlightAction::kResumeStep:
        RM_RETURN_IF_ERROR(VerifyResumable(c));
        plan.resume = registry_->FindStep(c.info.from);
        from = c.info.to;
        break;
      case InFlightAction::kFinishRollback:
        if (c.info.down && c.info.state == StepState::kMigrating) {
          RM_RETURN_IF_ERROR(VerifyDownable(c));
        }
        if (c.info.rollback_target && *c.info.rollback_target < c.info.from) {
          RM_ASSIGN_OR_RETURN(
              plan.rollback_rest,
              PlanUndos(c.info.from, *c.info.rollback_target, snap.empty,
                        c.info.rollback_using));
        }
        [[fallthrough]];
      case InFlightAction::kFinishFailure:
      case InFlightAction::kFinishAbandon:
        // The restore is finished and the call stops there.
        RM_RETURN_IF_ERROR(VerifiedBackupOf(c).status());
        return plan;
    }
  } else {
    RM_RETURN_IF_ERROR(CheckNotNewer(snap));
  }
  if (plan.goal < from) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the database is at v", from, ", above the target v", plan.goal,
        "; migrating only goes up (Rollback goes down); nothing was written"));
  }
  if (snap.empty && !snap.cursor) {
    plan.stamp = !snap.stored || *snap.stored < plan.goal;
    return plan;
  }
  if (plan.goal > from) {
    RM_ASSIGN_OR_RETURN(plan.steps, registry_->PlanPath(from, plan.goal));
  }
  RM_RETURN_IF_ERROR(CheckDiskSpace(plan.steps));
  return plan;
}

absl::StatusOr<Migrator::Impl::RollbackPlan> Migrator::Impl::PreflightRollback(
    int target, RollbackMethod method) const {
  RollbackPlan plan;
  plan.target = target;
  plan.method = method;
  if (target < 0) {
    return absl::InvalidArgumentError("the rollback target must be >= 0");
  }
  RM_ASSIGN_OR_RETURN(plan.snap, ReadSnapshot());
  const Snapshot& snap = plan.snap;
  int from = snap.current;
  if (snap.cursor) {
    const Cursor& c = *snap.cursor;
    plan.action = ActionFor(c.info);
    if (!c.backup) {
      return InFlightRefusal(c, "it cannot be rolled back; finish it by "
                                "migrating");
    }
    if (target > c.info.from) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the rollback target v", target, " is above v", c.info.from,
          ", where the run in flight started; nothing was written"));
    }
    RM_RETURN_IF_ERROR(VerifiedBackupOf(c).status());
    if (c.info.down && c.info.state == StepState::kMigrating) {
      RM_RETURN_IF_ERROR(VerifyDownable(c));
    }
    from = c.info.from;
  } else {
    RM_RETURN_IF_ERROR(CheckNotNewer(snap));
    if (target >= snap.current) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the database is at v", snap.current, "; a rollback goes to a "
          "lower version (migrating goes up); nothing was written"));
    }
  }
  if (target < from) {
    RM_ASSIGN_OR_RETURN(plan.undos,
                        PlanUndos(from, target, snap.empty, method));
  }
  return plan;
}

absl::StatusOr<Migrator::Impl::Snapshot> Migrator::Impl::PreflightAbandon()
    const {
  RM_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot());
  if (!snap.cursor) {
    return absl::FailedPreconditionError(
        "no run is in flight; nothing to abandon and nothing was written");
  }
  const Cursor& c = *snap.cursor;
  if (!c.backup) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", c.info.run_id, " in step ", StepName(c.info.from, c.info.to),
        " runs without backups and cannot be abandoned; finish it by "
        "migrating; nothing was written"));
  }
  RM_RETURN_IF_ERROR(VerifiedBackupOf(c).status());
  return snap;
}

}  // namespace rocksmigrate
