#include "rocksmigrate/migrator.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/fault_point.h"
#include "src/keys.h"
#include "src/lease.h"
#include "src/migrator_impl.h"
#include "src/rocksdb_status.h"
#include "src/step_state.h"

namespace rocksmigrate {
namespace {

std::string StepName(int from, int to) {
  return absl::StrCat("v", from, " -> v", to);
}

}  // namespace

// ---------------------------------------------------------------------------
// Migrator: the public face; every call goes to Impl.

absl::StatusOr<std::unique_ptr<Migrator>> Migrator::Create(
    rocksdb::DB* db, const MigrationRegistry* registry,
    MigratorOptions options) {
  if (db == nullptr || registry == nullptr) {
    return absl::InvalidArgumentError("Migrator needs a database and a registry");
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  if (options.threads < 0 || options.threads > 1024) {
    return absl::InvalidArgumentError(
        "MigratorOptions::threads must be between 0 (one per core) and 1024");
  }
  if (options.threads == 0) {
    options.threads = static_cast<int>(
        std::max(1u, std::thread::hardware_concurrency()));
  }
  if (options.batch_items == 0 || options.batch_bytes == 0) {
    return absl::InvalidArgumentError(
        "MigratorOptions::batch_items and batch_bytes must be > 0");
  }
  if (options.baseline_version < 0) {
    return absl::InvalidArgumentError(
        "MigratorOptions::baseline_version must be >= 0");
  }
  if (options.lock_wait < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "MigratorOptions::lock_wait must not be negative");
  }
  if (options.online &&
      dynamic_cast<rocksdb::TransactionDB*>(db) == nullptr) {
    return absl::InvalidArgumentError(
        "MigratorOptions::online needs a rocksdb::TransactionDB (the "
        "backfill locks each record while the server writes); this database "
        "is a plain rocksdb::DB: open it with rocksdb::TransactionDB::Open");
  }
  if (options.concurrent_writers &&
      dynamic_cast<rocksdb::TransactionDB*>(db) == nullptr) {
    return absl::InvalidArgumentError(
        "MigratorOptions::concurrent_writers needs a rocksdb::TransactionDB "
        "(per-record locks); this database is a plain rocksdb::DB");
  }
  if (options.online) {
    options.concurrent_writers = true;
    if (options.pacer == nullptr) options.pacer = std::make_shared<Pacer>();
  }
  for (rocksdb::ColumnFamilyHandle* cf : options.column_families) {
    if (cf == nullptr) {
      return absl::InvalidArgumentError(
          "MigratorOptions::column_families holds a null handle");
    }
  }
  auto impl = std::make_unique<Impl>(db, registry, std::move(options));
  return std::unique_ptr<Migrator>(new Migrator(std::move(impl)));
}

Migrator::Migrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Migrator::~Migrator() = default;

absl::StatusOr<DatabaseState> Migrator::Inspect() const {
  return impl_->Inspect();
}
absl::StatusOr<RunReport> Migrator::Migrate(std::optional<int> target) {
  return impl_->Migrate(target);
}
absl::StatusOr<DryRunReport> Migrator::DryRun(std::optional<int> target) const {
  return impl_->DryRun(target);
}
absl::StatusOr<RunReport> Migrator::Rollback(int target,
                                             RollbackMethod method) {
  return impl_->Rollback(target, method);
}
absl::StatusOr<DryRunReport> Migrator::DryRunRollback(
    int target, RollbackMethod method) const {
  return impl_->DryRunRollback(target, method);
}
absl::StatusOr<RunReport> Migrator::Redo(bool force) {
  return impl_->Redo(force);
}
absl::StatusOr<RunReport> Migrator::Abandon() { return impl_->Abandon(); }
absl::StatusOr<std::vector<HistoryEntry>> Migrator::History() const {
  std::vector<HistoryEntry> out;
  RM_RETURN_IF_ERROR(impl_->history().ForEach([&](const HistoryEntry& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}
absl::Status Migrator::ForEachHistoryEntry(
    const std::function<bool(const HistoryEntry&)>& fn) const {
  return impl_->history().ForEach(fn);
}
absl::StatusOr<std::vector<HistoryEntry>> Migrator::RecentHistory(
    size_t n) const {
  return impl_->history().Recent(n);
}
absl::StatusOr<std::vector<BackupInfo>> Migrator::ListBackups() const {
  return impl_->backups().List();
}
absl::StatusOr<BackupVerification> Migrator::VerifyBackup(
    const std::string& id) const {
  return impl_->VerifyBackup(id);
}
absl::Status Migrator::DeleteBackup(const std::string& id, bool force) {
  return impl_->DeleteBackup(id, force);
}
absl::StatusOr<std::vector<std::string>> Migrator::PruneBackups(size_t keep) {
  RetentionPolicy policy;
  policy.keep = keep;
  return impl_->PruneBackups(policy);
}
absl::StatusOr<std::vector<std::string>> Migrator::PruneBackups(
    const RetentionPolicy& policy) {
  return impl_->PruneBackups(policy);
}
absl::Status Migrator::RemoveBookkeepingKey(const std::string& key) {
  return impl_->RemoveBookkeepingKey(key);
}
absl::Status Migrator::SetSchemaVersion(int version) {
  return impl_->SetSchemaVersion(version);
}
absl::StatusOr<ValidationReport> Migrator::Validate() const {
  return impl_->Validate();
}

// ---------------------------------------------------------------------------
// Impl.

Migrator::Impl::Impl(rocksdb::DB* db, const MigrationRegistry* registry,
                     const MigratorOptions& options)
    : db_(db),
      registry_(registry),
      options_(options),
      meta_(db),
      history_(&meta_),
      backups_(&meta_, options.backup_column_family, options.column_families) {
  env_.meta = &meta_;
  env_.backups = &backups_;
  env_.options = &options_;
}

absl::StatusOr<DatabaseState> Migrator::Impl::Inspect() const {
  DatabaseState out;
  out.target_version = NewestVersion();
  // Each key is read on its own, so that one damaged key does not hide the
  // others; the first problem is the state's bookkeeping_status.
  auto note = [&out](const absl::Status& s) {
    if (out.bookkeeping_status.ok()) out.bookkeeping_status = s;
  };
  absl::StatusOr<std::optional<int>> stored = meta_.ReadVersion();
  if (!stored.ok() && !absl::IsFailedPrecondition(stored.status())) {
    return stored.status();
  }
  if (stored.ok()) {
    out.has_stored_version = stored->has_value();
    out.current_version = stored->value_or(options_.baseline_version);
  } else {
    note(stored.status());
    out.has_stored_version = true;
    out.current_version = options_.baseline_version;
  }
  RM_ASSIGN_OR_RETURN(bool has_records, meta_.HasUserRecords());
  out.empty = !has_records;
  absl::StatusOr<std::optional<Cursor>> cursor = meta_.ReadCursor();
  if (!cursor.ok() && !absl::IsFailedPrecondition(cursor.status())) {
    return cursor.status();
  }
  if (!cursor.ok()) {
    note(cursor.status());
  } else if (*cursor) {
    out.in_flight = (*cursor)->info;
    out.in_flight_action =
        ActionFor((*cursor)->info);
  }
  absl::StatusOr<HistoryStore::Layout> layout = history_.ReadLayout();
  if (layout.ok()) {
    out.history_total = layout->count;
    absl::StatusOr<std::vector<HistoryEntry>> recent = history_.Recent(5);
    if (recent.ok()) {
      out.recent_history = std::move(*recent);
    } else if (absl::IsFailedPrecondition(recent.status())) {
      note(recent.status());
    } else {
      return recent.status();
    }
  } else if (absl::IsFailedPrecondition(layout.status())) {
    note(layout.status());
  } else {
    return layout.status();
  }
  if (out.bookkeeping_status.ok()) {
    // Everything decodes: check it against itself (the preflight's checks).
    absl::StatusOr<Snapshot> snap = ReadSnapshot();
    if (!snap.ok() && !absl::IsFailedPrecondition(snap.status())) {
      return snap.status();
    }
    if (!snap.ok()) {
      note(snap.status());
    } else if (snap->cursor && out.in_flight_action ==
                                   InFlightAction::kResumeStep) {
      note(VerifyResumable(*snap->cursor));
    }
  }
  if (stored.ok() && *stored && **stored > NewestVersion()) {
    out.newer_than_supported = true;
  }
  const int from = out.in_flight && out.in_flight_action ==
                                        InFlightAction::kResumeStep
                       ? out.in_flight->to
                       : out.current_version;
  if (!out.newer_than_supported && stored.ok() && from < out.target_version &&
      !(out.empty && !out.in_flight)) {
    auto path = registry_->PlanPath(from, out.target_version);
    if (path.ok()) {
      for (Step& step : *path) {
        PendingStep pending{step, {}};
        for (const Migration* m : step.migrations) {
          RM_ASSIGN_OR_RETURN(bool has, meta_.HasRecordsUnder(m->prefix()));
          if (!has) pending.empty_prefixes.push_back(m->prefix());
        }
        out.pending.push_back(std::move(pending));
      }
    } else {
      out.plan_status = path.status();
    }
  }
  RM_ASSIGN_OR_RETURN(std::optional<std::string> lock, meta_.Get(kLockKey));
  out.last_lock_holder = std::move(lock);
  return out;
}

absl::StatusOr<RunReport> Migrator::Impl::Migrate(std::optional<int> target) {
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  RM_ASSIGN_OR_RETURN(MigratePlan plan, PreflightMigrate(target));
  RunReport report;
  report.from_version = plan.snap.current;
  report.to_version = plan.snap.current;
  report.in_flight_action = plan.action;
  report.resumed = plan.action.has_value();
  if (!plan.action && !plan.stamp && plan.steps.empty()) return report;

  report.run_id = NewRunId();
  RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  RM_RETURN_IF_ERROR(ConvertLegacyHistory());

  if (plan.action) {
    Cursor c = *plan.snap.cursor;
    const std::string step = StepName(c.info.from, c.info.to);
    switch (*plan.action) {
      case InFlightAction::kResumeStep:
        RM_RETURN_IF_ERROR(ContinueStep(*plan.resume, std::move(c), &report));
        break;
      case InFlightAction::kFinishFailure:
        return FinishRestore(std::move(c), {}, &report);  // Aborted.
      case InFlightAction::kFinishRollback: {
        RM_RETURN_IF_ERROR(
            FinishRestore(std::move(c), std::move(plan.rollback_rest), &report));
        return absl::AbortedError(absl::StrCat(
            "an interrupted rollback (step ", step,
            ") was in flight and has been finished: the database is now at v",
            report.to_version, ", where the rollback was going; it was not "
            "migrated up, since going down was the last thing asked for; "
            "migrate again to go up"));
      }
      case InFlightAction::kFinishAbandon:
        RM_RETURN_IF_ERROR(FinishRestore(std::move(c), {}, &report));
        return absl::AbortedError(absl::StrCat(
            "an abandoned run (step ", step, ") was being restored and has "
            "been finished: the database is at v", report.to_version,
            "; it was not migrated further; migrate again to go on"));
    }
  }
  if (plan.stamp) {
    RM_RETURN_IF_ERROR(Stamp(plan.snap.current, plan.goal, report.run_id,
                             &report));
    return report;
  }
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (i > 0 || plan.action) FaultPoint("between_steps");
    RM_ASSIGN_OR_RETURN(Cursor c, StartStep(plan.steps[i], report.run_id));
    RM_RETURN_IF_ERROR(ContinueStep(plan.steps[i], std::move(c), &report));
  }
  return report;
}

absl::StatusOr<RunReport> Migrator::Impl::Rollback(int target,
                                                   RollbackMethod method) {
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  RM_ASSIGN_OR_RETURN(RollbackPlan plan, PreflightRollback(target, method));
  RunReport report;
  report.run_id = NewRunId();
  report.from_version = plan.snap.current;
  report.to_version = plan.snap.current;
  report.in_flight_action = plan.action;
  report.resumed = plan.action.has_value();
  RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  RM_RETURN_IF_ERROR(ConvertLegacyHistory());

  std::vector<Undo> undos = std::move(plan.undos);
  if (plan.action) {
    Cursor c = *plan.snap.cursor;
    switch (*plan.action) {
      case InFlightAction::kResumeStep:
        // Undo the step in flight: it never finished. The rollback goes on
        // from there, so the cursor carries its target.
        c.info.rollback_using = method;
        RM_RETURN_IF_ERROR(BeginRestore(&c, RestoreReason::kRollback, target));
        return FinishRollback(std::move(c), std::move(undos), &report);
      case InFlightAction::kFinishRollback:
        // The newest request wins (a down pass in flight finishes as one).
        c.info.rollback_target = target;
        c.info.rollback_using = method;
        return FinishRollback(std::move(c), std::move(undos), &report);
      case InFlightAction::kFinishFailure:
      case InFlightAction::kFinishAbandon: {
        // Finished as what they are; the rollback proper starts after.
        absl::Status s = FinishRestore(c, {}, &report);
        if (!s.ok() && !absl::IsAborted(s)) return s;  // Aborted: restored.
        break;
      }
    }
  }
  if (undos.empty()) return report;

  // The first write: the stamps undone at the top, and the first step's
  // cursor, so that the rollback is in flight from its first write on.
  size_t taken = 0;
  int version = report.to_version;
  rocksdb::WriteBatch wb;
  RM_ASSIGN_OR_RETURN(HistoryStore::Layout layout, history_.ReadLayout());
  HistoryStore::Writer writer(layout.count);
  while (taken < undos.size() && undos[taken].unstamp()) {
    HistoryEntry stamp = undos[taken].entry;
    stamp.status = StepStatus::kRolledBack;
    writer.Put(&wb, stamp.sequence, stamp);
    version = stamp.from;
    report.steps.push_back(std::move(stamp));
    report.stamped_empty = true;
    ++taken;
  }
  meta_.PutVersion(&wb, version);
  std::optional<Cursor> next;
  if (taken < undos.size()) {
    std::optional<BackupInfo> manifest;
    RM_ASSIGN_OR_RETURN(next,
                        RollbackCursor(undos[taken], target, method, &manifest));
    meta_.PutCursor(&wb, *next);
    if (manifest) backups_.PutManifest(&wb, backups_.write_cf(), *manifest);
  }
  RM_RETURN_IF_ERROR(meta_.Commit(
      &wb, absl::StrCat("starting the rollback to v", target)));
  report.to_version = version;
  if (!next) return report;
  undos.erase(undos.begin(),
              undos.begin() + static_cast<std::ptrdiff_t>(taken) + 1);
  return FinishRollback(std::move(*next), std::move(undos), &report);
}

absl::StatusOr<RunReport> Migrator::Impl::FinishRollback(
    Cursor cursor, std::vector<Undo> rest, RunReport* report) {
  RM_RETURN_IF_ERROR(FinishRestore(std::move(cursor), std::move(rest), report));
  return *report;
}

absl::StatusOr<RunReport> Migrator::Impl::Abandon() {
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  RM_ASSIGN_OR_RETURN(Snapshot snap, PreflightAbandon());
  RunReport report;
  report.run_id = snap.cursor->info.run_id;
  report.from_version = snap.current;
  report.to_version = snap.current;
  report.resumed = true;
  report.in_flight_action =
      ActionFor(snap.cursor->info);
  RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  RM_RETURN_IF_ERROR(ConvertLegacyHistory());
  Cursor c = *snap.cursor;
  if (c.info.state == StepState::kMigrating) {
    RM_RETURN_IF_ERROR(BeginRestore(&c, RestoreReason::kAbandon, std::nullopt));
  } else if (c.info.reason == RestoreReason::kRollback) {
    c.info.rollback_target.reset();  // Stop after this step.
  }
  absl::Status s = FinishRestore(std::move(c), {}, &report);
  if (!s.ok() && !absl::IsAborted(s)) return s;  // Aborted: a failure restored.
  return report;
}

}  // namespace rocksmigrate
