#include "rocksmigrate/migrator.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "src/disk_space.h"
#include "src/fault_point.h"
#include "src/keys.h"
#include "src/lease.h"
#include "src/migrator_impl.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {

// ---------------------------------------------------------------------------
// Migrator: the public face; every call goes to Impl.

absl::StatusOr<std::unique_ptr<Migrator>> Migrator::Create(
    rocksdb::DB* db, const MigrationRegistry* registry,
    MigratorOptions options) {
  if (db == nullptr || registry == nullptr) {
    return absl::InvalidArgumentError("Migrator needs a database and a registry");
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  if (options.threads <= 0) {
    options.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  if (options.batch_items == 0 || options.batch_bytes == 0) {
    return absl::InvalidArgumentError("batch_items and batch_bytes must be > 0");
  }
  if (options.baseline_version < 0) {
    return absl::InvalidArgumentError("baseline_version must be >= 0");
  }
  auto impl = std::make_unique<Impl>(db, registry, options);
  return std::unique_ptr<Migrator>(new Migrator(std::move(impl), options));
}

Migrator::Migrator(std::unique_ptr<Impl> impl, MigratorOptions options)
    : impl_(std::move(impl)), options_(std::move(options)) {}
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
absl::StatusOr<RunReport> Migrator::Rollback(int target) {
  return impl_->Rollback(target);
}
absl::StatusOr<std::vector<HistoryEntry>> Migrator::History() const {
  return impl_->meta().ReadHistory();
}
absl::StatusOr<std::vector<BackupInfo>> Migrator::ListBackups() const {
  return impl_->backups().List();
}
absl::Status Migrator::DeleteBackup(const std::string& id) {
  return impl_->DeleteBackup(id);
}
absl::StatusOr<std::vector<std::string>> Migrator::PruneBackups(size_t keep) {
  return impl_->PruneBackups(keep);
}
absl::StatusOr<ValidationReport> Migrator::Validate() const {
  return impl_->Validate();
}

// ---------------------------------------------------------------------------
// Impl: reading the state.

Migrator::Impl::Impl(rocksdb::DB* db, const MigrationRegistry* registry,
                     const MigratorOptions& options)
    : db_(db),
      registry_(registry),
      options_(options),
      meta_(db, options.backup_column_family),
      backups_(&meta_) {
  env_.meta = &meta_;
  env_.backups = &backups_;
  env_.options = &options_;
}

int Migrator::Impl::NewestVersion() const {
  return registry_->empty() ? options_.baseline_version
                            : registry_->newest_version();
}

absl::StatusOr<Migrator::Impl::State> Migrator::Impl::ReadState() const {
  State st;
  auto stored = meta_.ReadVersion();
  if (!stored.ok()) return stored.status();
  st.stored = *stored;
  st.current = st.stored.value_or(options_.baseline_version);
  auto cursor = meta_.ReadCursor();
  if (!cursor.ok()) return cursor.status();
  st.cursor = std::move(*cursor);
  auto has = meta_.HasUserRecords(registry_->prefixes());
  if (!has.ok()) return has.status();
  st.empty = !*has;
  return st;
}

absl::Status Migrator::Impl::CheckNotNewer(const State& st) const {
  if (st.stored && !registry_->empty() && *st.stored > NewestVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's schema version v", *st.stored,
        " is newer than this binary supports (newest known: v",
        NewestVersion(),
        "); run a newer binary, or roll back with the binary that migrated "
        "it; nothing was written"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DatabaseState> Migrator::Impl::Inspect() const {
  auto st = ReadState();
  if (!st.ok()) return st.status();
  DatabaseState out;
  out.empty = st->empty;
  out.has_stored_version = st->stored.has_value();
  out.current_version = st->current;
  out.target_version = NewestVersion();
  out.newer_than_supported = !CheckNotNewer(*st).ok();
  if (st->cursor) out.in_flight = st->cursor->info;
  if (!out.newer_than_supported && out.current_version < out.target_version) {
    auto path = registry_->PlanPath(out.current_version, out.target_version);
    if (path.ok()) {
      out.pending = std::move(*path);
    } else {
      out.plan_status = path.status();
    }
  }
  std::string lock;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kLockKey, &lock);
  if (s.ok()) {
    out.last_lock_holder = lock;
  } else if (!s.IsNotFound()) {
    return FromRocksDb(s, "reading _migration_lock");
  }
  return out;
}

// ---------------------------------------------------------------------------
// Impl: migrating.

std::string Migrator::Impl::NewRunId() const {
  std::random_device rd;
  return absl::StrFormat(
      "%s-%04x",
      absl::FormatTime("%Y%m%dT%H%M%SZ", options_.clock(), absl::UTCTimeZone()),
      (rd() ^ static_cast<unsigned>(getpid())) & 0xFFFF);
}

int64_t Migrator::Impl::MillisSince(absl::Time t) const {
  return std::max<int64_t>(0, absl::ToInt64Milliseconds(options_.clock() - t));
}

HistoryEntry Migrator::Impl::EntryFor(const Cursor& c,
                                      const std::string& status,
                                      int64_t duration_ms) const {
  HistoryEntry e;
  e.run_id = c.info.run_id;
  e.from = c.info.from;
  e.to = c.info.to;
  e.migrations = c.migrations;
  e.status = status;
  e.items_migrated = c.info.items_migrated;
  e.items_skipped = c.info.items_skipped;
  e.started_at = c.info.started_at;
  e.duration_ms = duration_ms;
  e.backup_id = c.info.backup_id;
  e.error = c.info.error;
  e.checksums = c.checksums;
  return e;
}

absl::StatusOr<RunReport> Migrator::Impl::Migrate(std::optional<int> target) {
  auto st = ReadState();
  if (!st.ok()) return st.status();
  const int newest = NewestVersion();
  const int goal = target.value_or(newest);
  if (goal > newest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no migration goes to v", goal, "; the newest known version is v",
        newest));
  }
  RunReport report;
  report.from_version = st->current;
  report.to_version = st->current;
  if (!st->cursor) {
    RM_RETURN_IF_ERROR(CheckNotNewer(*st));
    if (goal < st->current) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the database is at v", st->current, ", above the target v", goal,
          "; migrate only goes up: use rollback --to ", goal));
    }
    bool needs_stamp = st->empty && (!st->stored || *st->stored < goal);
    if (goal == st->current && !needs_stamp) return report;  // Up to date.
    if (!st->empty) {
      // Plan before taking the lease: a gap is a definition error and
      // nothing may be written.
      auto path = registry_->PlanPath(st->current, goal);
      if (!path.ok()) return path.status();
    }
  }

  auto lease = Lease::Acquire(&meta_, options_.lock_wait, options_.clock());
  if (!lease.ok()) return lease.status();
  report.run_id = NewRunId();

  st = ReadState();  // Under the lease.
  if (!st.ok()) return st.status();
  if (st->cursor) {
    report.resumed = true;
    RM_RETURN_IF_ERROR(FinishInFlight(*st->cursor, &report));
    st = ReadState();
    if (!st.ok()) return st.status();
  }
  RM_RETURN_IF_ERROR(CheckNotNewer(*st));
  if (goal < st->current) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the database is at v", st->current, ", above the target v", goal,
        "; use rollback --to ", goal));
  }
  if (st->empty) {
    if (!st->stored || *st->stored < goal) {
      rocksdb::WriteBatch wb;
      meta_.PutVersion(&wb, goal);
      RM_RETURN_IF_ERROR(meta_.Commit(&wb, "stamping the empty database"));
      report.stamped_empty = true;
    }
    report.to_version = std::max(goal, st->current);
    return report;
  }
  if (goal == st->current) {
    report.to_version = goal;
    return report;
  }
  auto path = registry_->PlanPath(st->current, goal);
  if (!path.ok()) return path.status();
  for (size_t i = 0; i < path->size(); ++i) {
    if (i > 0) FaultPoint("between_steps");
    RM_RETURN_IF_ERROR(RunStep((*path)[i], report.run_id, goal, &report));
  }
  return report;
}

absl::Status Migrator::Impl::FinishInFlight(Cursor cursor, RunReport* report) {
  const InFlight& in = cursor.info;
  if (in.state == "rolling_back") {
    if (in.reason == "rollback") return FinishRollbackStep(cursor, report);
    return RestoreAndFail(cursor);
  }
  const Step* step = registry_->FindStep(in.from);
  std::vector<std::string> names;
  if (step != nullptr) {
    for (const Migration* m : step->migrations) names.push_back(m->name());
  }
  if (step == nullptr || step->to != in.to || names != cursor.migrations) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a run (", in.run_id, ") is in flight in step v", in.from, " -> v",
        in.to, " with migrations [", absl::StrJoin(cursor.migrations, ", "),
        "], which this binary does not register as such; finish it with the "
        "binary and migrations that started it, or roll it back"));
  }
  return ContinueStep(*step, std::move(cursor), report);
}

absl::Status Migrator::Impl::RunStep(const Step& step,
                                     const std::string& run_id, int target,
                                     RunReport* report) {
  const absl::Time now = options_.clock();
  Cursor c;
  c.info.run_id = run_id;
  c.info.state = "migrating";
  c.info.from = step.from;
  c.info.to = step.to;
  c.info.started_at = FormatIsoTime(now);
  c.target = target;
  c.backup = options_.backup;
  std::vector<std::string> prefixes;
  for (const Migration* m : step.migrations) {
    c.migrations.push_back(m->name());
    prefixes.push_back(m->prefix());
    if (!m->source_file().empty()) c.checksums[m->source_file()] = m->checksum();
  }
  if (c.backup) {  // Refuse before writing when the disk cannot hold it.
    std::vector<KeyRange> ranges;
    for (const Migration* m : step.migrations) {
      for (KeyRange& r : UserRanges(m->prefix())) ranges.push_back(std::move(r));
    }
    RM_RETURN_IF_ERROR(CheckDiskSpaceForStep(db_, ranges));
  }
  rocksdb::WriteBatch wb;
  if (c.backup) {
    auto id = backups_.NewId(now);
    if (!id.ok()) return id.status();
    c.info.backup_id = *id;
    BackupInfo manifest;
    manifest.id = *id;
    manifest.from = step.from;
    manifest.to = step.to;
    manifest.created_at = c.info.started_at;
    manifest.prefixes = prefixes;
    manifest.run_id = run_id;
    backups_.PutManifest(&wb, manifest);
  }
  meta_.PutCursor(&wb, c);
  RM_RETURN_IF_ERROR(meta_.Commit(
      &wb, absl::StrCat("starting step ", step.Describe())));
  FaultPoint("step_start");
  return ContinueStep(step, std::move(c), report);
}

absl::Status Migrator::Impl::ContinueStep(const Step& step, Cursor cursor,
                                          RunReport* report) {
  const absl::Time t0 = options_.clock();
  absl::Status s = MigrateRecords(env_, step, &cursor);
  const int64_t elapsed = cursor.elapsed_ms + MillisSince(t0);

  if (s.ok()) {
    FaultPoint("before_step_finish");
    auto history = meta_.ReadHistory();
    if (!history.ok()) return history.status();
    HistoryEntry entry = EntryFor(cursor, "success", elapsed);
    UpsertHistory(&*history, entry);
    rocksdb::WriteBatch wb;
    meta_.PutVersion(&wb, step.to);
    meta_.PutHistory(&wb, *history);
    meta_.DeleteCursor(&wb);
    if (cursor.backup) {
      auto manifest = backups_.Get(*cursor.info.backup_id);
      if (!manifest.ok()) return manifest.status();
      if (*manifest) {
        (*manifest)->complete = true;
        (*manifest)->item_count = cursor.info.items_migrated;
        backups_.PutManifest(&wb, **manifest);
      }
    }
    RM_RETURN_IF_ERROR(meta_.Commit(
        &wb, absl::StrCat("finishing step ", step.Describe())));
    report->steps.push_back(entry);
    report->to_version = step.to;
    return absl::OkStatus();
  }

  if (absl::IsCancelled(s)) {
    cursor.elapsed_ms = elapsed;
    auto history = meta_.ReadHistory();
    if (!history.ok()) return history.status();
    HistoryEntry entry = EntryFor(cursor, "interrupted", elapsed);
    UpsertHistory(&*history, entry);
    rocksdb::WriteBatch wb;
    meta_.PutHistory(&wb, *history);
    meta_.PutCursor(&wb, cursor);
    RM_RETURN_IF_ERROR(meta_.Commit(&wb, "recording the interruption"));
    report->steps.push_back(entry);
    return absl::CancelledError(absl::StrCat(
        s.message(), "; ", cursor.info.items_migrated,
        " records migrated so far are committed; run migrate again to "
        "resume"));
  }

  if (absl::IsAborted(s)) {  // An item error.
    cursor.elapsed_ms = elapsed;
    cursor.info.error = std::string(s.message());
    if (!cursor.backup) {
      // SPEC §8.5: no backup, no restore. The step stays in flight where it
      // stopped; every record is wholly old or wholly new.
      auto history = meta_.ReadHistory();
      if (!history.ok()) return history.status();
      HistoryEntry entry = EntryFor(cursor, "failed", elapsed);
      UpsertHistory(&*history, entry);
      rocksdb::WriteBatch wb;
      meta_.PutHistory(&wb, *history);
      meta_.PutCursor(&wb, cursor);
      RM_RETURN_IF_ERROR(meta_.Commit(&wb, "recording the failure"));
      report->steps.push_back(entry);
      return absl::AbortedError(absl::StrCat(
          s.message(), "; the step ran without backups, so it stopped where "
                       "it was and cannot be rolled back: fix the record or "
                       "the migration and run migrate again to continue"));
    }
    RM_RETURN_IF_ERROR(BeginRestore(&cursor, "item_error"));
    return RestoreAndFail(std::move(cursor));
  }
  return s;  // A read or write error: the committed batches stand.
}

absl::Status Migrator::Impl::BeginRestore(Cursor* cursor,
                                          const std::string& reason) {
  cursor->info.state = "rolling_back";
  cursor->info.reason = reason;
  cursor->has_last_key = false;
  cursor->info.last_key.clear();
  cursor->items_restored = 0;
  rocksdb::WriteBatch wb;
  meta_.PutCursor(&wb, *cursor);
  return meta_.Commit(&wb, absl::StrCat("starting the restore of step v",
                                        cursor->info.from, " -> v",
                                        cursor->info.to));
}

absl::Status Migrator::Impl::RestoreAndFail(Cursor cursor) {
  RM_RETURN_IF_ERROR(RestoreRecords(env_, &cursor));
  FaultPoint("before_rollback_finish");
  auto history = meta_.ReadHistory();
  if (!history.ok()) return history.status();
  HistoryEntry entry = EntryFor(cursor, "failed", cursor.elapsed_ms);
  UpsertHistory(&*history, entry);
  rocksdb::WriteBatch wb;
  meta_.PutHistory(&wb, *history);
  meta_.DeleteCursor(&wb);
  backups_.StageDelete(&wb, *cursor.info.backup_id);
  RM_RETURN_IF_ERROR(meta_.Commit(&wb, "recording the failed step"));
  return absl::AbortedError(absl::StrCat(
      cursor.info.error.value_or("item error"), "; every record of step v",
      cursor.info.from, " -> v", cursor.info.to,
      " was restored to its bytes before the step and the database stays at v",
      cursor.info.from, "; fix the record or the migration and run migrate "
      "again"));
}

// ---------------------------------------------------------------------------
// Impl: rolling back.

absl::StatusOr<RunReport> Migrator::Impl::Rollback(int target) {
  auto st = ReadState();
  if (!st.ok()) return st.status();
  if (target < 0) return absl::InvalidArgumentError("rollback --to must be >= 0");
  if (!st->cursor) {
    RM_RETURN_IF_ERROR(CheckNotNewer(*st));
    if (target >= st->current) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the database is at v", st->current, "; rollback --to must name a "
          "lower version (to go up, use migrate)"));
    }
  }
  auto lease = Lease::Acquire(&meta_, options_.lock_wait, options_.clock());
  if (!lease.ok()) return lease.status();
  RunReport report;
  report.run_id = NewRunId();
  st = ReadState();
  if (!st.ok()) return st.status();
  report.from_version = st->current;
  report.to_version = st->current;

  if (st->cursor) {
    Cursor c = *st->cursor;
    report.resumed = true;
    if (c.info.state == "migrating") {
      // Undo the step in flight: it was never finished.
      if (!c.backup) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the run in flight (step v", c.info.from, " -> v", c.info.to,
            ") has no backup and cannot be rolled back; run migrate to "
            "finish it"));
      }
      RM_RETURN_IF_ERROR(BeginRestore(&c, "rollback"));
      RM_RETURN_IF_ERROR(FinishRollbackStep(c, &report));
    } else if (c.info.reason == "rollback") {
      RM_RETURN_IF_ERROR(FinishRollbackStep(c, &report));
    } else {
      absl::Status s = RestoreAndFail(c);
      if (!absl::IsAborted(s)) return s;  // Aborted: restored as it should.
    }
    st = ReadState();
    if (!st.ok()) return st.status();
  }
  if (target >= st->current) {
    report.to_version = st->current;
    return report;
  }

  // Check every step before touching anything.
  auto history = meta_.ReadHistory();
  if (!history.ok()) return history.status();
  std::vector<Cursor> plan;
  for (int v = st->current; v > target; --v) {
    const HistoryEntry* applied = nullptr;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      if (it->to == v && it->from == v - 1 && it->status == "success") {
        applied = &*it;
        break;
      }
    }
    const std::string step = absl::StrCat("v", v - 1, " -> v", v);
    if (applied == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot roll back step ", step,
          ": the history has no successful run of it (the database was "
          "stamped or migrated without rocksmigrate's history); nothing was "
          "changed"));
    }
    if (!applied->backup_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot roll back step ", step, " (run ", applied->run_id,
          "): it ran with --no-backup; nothing was changed"));
    }
    auto manifest = backups_.Get(*applied->backup_id);
    if (!manifest.ok()) return manifest.status();
    if (!*manifest || !(*manifest)->complete) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot roll back step ", step, ": its backup ", *applied->backup_id,
          *manifest ? " is incomplete" : " was deleted",
          "; nothing was changed"));
    }
    Cursor c;
    c.info.run_id = applied->run_id;
    c.info.state = "rolling_back";
    c.info.reason = "rollback";
    c.info.from = applied->from;
    c.info.to = applied->to;
    c.info.backup_id = applied->backup_id;
    c.info.started_at = FormatIsoTime(options_.clock());
    c.info.items_migrated = applied->items_migrated;
    c.info.items_skipped = applied->items_skipped;
    c.target = target;
    c.migrations = applied->migrations;
    c.checksums = applied->checksums;
    plan.push_back(std::move(c));
  }
  for (Cursor& c : plan) {
    rocksdb::WriteBatch wb;
    meta_.PutCursor(&wb, c);
    RM_RETURN_IF_ERROR(meta_.Commit(
        &wb, absl::StrCat("starting the rollback of step v", c.info.from,
                          " -> v", c.info.to)));
    RM_RETURN_IF_ERROR(FinishRollbackStep(c, &report));
  }
  return report;
}

absl::Status Migrator::Impl::FinishRollbackStep(Cursor cursor,
                                                RunReport* report) {
  RM_RETURN_IF_ERROR(RestoreRecords(env_, &cursor));
  FaultPoint("before_rollback_finish");
  auto history = meta_.ReadHistory();
  if (!history.ok()) return history.status();
  HistoryEntry entry;
  bool found = false;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    if (it->run_id == cursor.info.run_id && it->from == cursor.info.from &&
        it->to == cursor.info.to) {
      it->status = "rolled_back";
      entry = *it;
      found = true;
      break;
    }
  }
  if (!found) {  // A step in flight that never finished.
    entry = EntryFor(cursor, "rolled_back", cursor.elapsed_ms);
    history->push_back(entry);
  }
  rocksdb::WriteBatch wb;
  meta_.PutHistory(&wb, *history);
  meta_.PutVersion(&wb, cursor.info.from);
  meta_.DeleteCursor(&wb);
  backups_.StageDelete(&wb, *cursor.info.backup_id);
  RM_RETURN_IF_ERROR(meta_.Commit(
      &wb, absl::StrCat("finishing the rollback of step v", cursor.info.from,
                        " -> v", cursor.info.to)));
  report->steps.push_back(entry);
  report->to_version = cursor.info.from;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Impl: backups.

absl::Status Migrator::Impl::DeleteBackup(const std::string& id) {
  if (!BackupStore::IsBackupId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", id, "' is not a backup id (expected _backup_YYYYMMDD_HHMMSS[_N]; "
        "see backups list)"));
  }
  auto lease = Lease::Acquire(&meta_, options_.lock_wait, options_.clock());
  if (!lease.ok()) return lease.status();
  auto cursor = meta_.ReadCursor();
  if (!cursor.ok()) return cursor.status();
  if (*cursor && (*cursor)->info.backup_id == id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "backup ", id, " belongs to the run in flight; finish or roll back "
        "that run first"));
  }
  auto manifest = backups_.Get(id);
  if (!manifest.ok()) return manifest.status();
  if (!*manifest) {
    return absl::NotFoundError(absl::StrCat("no backup ", id, "; see backups list"));
  }
  rocksdb::WriteBatch wb;
  backups_.StageDelete(&wb, id);
  return meta_.Commit(&wb, absl::StrCat("deleting backup ", id));
}

absl::StatusOr<std::vector<std::string>> Migrator::Impl::PruneBackups(
    size_t keep) {
  auto lease = Lease::Acquire(&meta_, options_.lock_wait, options_.clock());
  if (!lease.ok()) return lease.status();
  auto cursor = meta_.ReadCursor();
  if (!cursor.ok()) return cursor.status();
  auto list = backups_.List();
  if (!list.ok()) return list.status();
  std::vector<std::string> deleted;
  if (list->size() <= keep) return deleted;
  const size_t drop = list->size() - keep;  // Oldest first.
  for (size_t i = 0; i < drop; ++i) {
    const std::string& id = (*list)[i].id;
    if (*cursor && (*cursor)->info.backup_id == id) continue;  // In use.
    if (!deleted.empty()) FaultPoint("prune_between");
    rocksdb::WriteBatch wb;
    backups_.StageDelete(&wb, id);
    RM_RETURN_IF_ERROR(meta_.Commit(&wb, absl::StrCat("deleting backup ", id)));
    deleted.push_back(id);
  }
  return deleted;
}

}  // namespace rocksmigrate
