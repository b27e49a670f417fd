// The transitions of the step state machine (src/step_state.h), each one
// atomic write, and the two phases that run between them.
#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/status_macros.h"
#include "src/fault_point.h"
#include "src/keys.h"
#include "src/migrator_impl.h"
#include "src/step_state.h"

namespace rocksmigrate {
namespace {

std::string StepName(int from, int to) {
  return absl::StrCat("v", from, " -> v", to);
}

// The manifest of the backup cursor `c` starts with (a step's, or a down
// pass's when `c.info.down`), over `step`'s prefixes: no record yet, not
// complete. REQUIRES: c.info.backup_id is set.
BackupInfo NewManifest(const Cursor& c, const Step& step) {
  BackupInfo m;
  m.id = *c.info.backup_id;
  m.from = c.info.from;
  m.to = c.info.to;
  m.created_at = c.info.started_at;
  for (const Migration* mig : step.migrations) {
    m.prefixes.push_back(mig->prefix());
  }
  m.run_id = c.info.run_id;
  m.down = c.info.down;
  return m;
}

}  // namespace

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
                                      StepStatus status) const {
  HistoryEntry e;
  e.run_id = c.info.run_id;
  e.from = c.info.from;
  e.to = c.info.to;
  e.migrations = c.migrations;
  e.status = status;
  e.items_migrated = c.info.items_migrated;
  e.items_skipped = c.info.items_skipped;
  e.items_ahead = c.info.items_ahead;
  e.started_at = c.info.started_at;
  e.duration_ms = c.elapsed_ms;
  e.backup_id = c.info.backup_id;
  if (c.info.backup_id) e.backup_column_family = c.info.backup_column_family;
  e.error = c.info.error;
  e.checksums = c.checksums;
  e.empty_prefixes = c.empty_prefixes;
  e.mode = c.info.mode;
  e.items_kept = c.info.items_kept;
  e.kept_keys = c.info.kept_keys;
  e.down = c.info.down;
  return e;
}

absl::Status Migrator::Impl::ConvertLegacyHistory() {
  RM_ASSIGN_OR_RETURN(HistoryStore::Layout layout, history_.ReadLayout());
  if (!layout.legacy) return absl::OkStatus();
  rocksdb::WriteBatch wb;
  RM_RETURN_IF_ERROR(history_.StageConversion(&wb));
  return meta_.Commit(&wb, "converting _migration_history to one key per "
                           "entry");
}

absl::StatusOr<HistoryEntry> Migrator::Impl::RecordOutcome(
    Cursor* cursor, const Outcome& outcome, std::string_view what) {
  RM_ASSIGN_OR_RETURN(HistoryStore::Layout layout, history_.ReadLayout());
  HistoryStore::Writer writer(layout.count);
  rocksdb::WriteBatch wb;

  HistoryEntry entry = EntryFor(*cursor, outcome.status);
  bool written = false;
  if (outcome.status == StepStatus::kRolledBack && cursor->history_seq != 0) {
    // Undoing a finished step: its entry keeps its run's figures and
    // becomes rolled_back.
    RM_ASSIGN_OR_RETURN(HistoryEntry applied,
                        history_.Get(cursor->history_seq));
    if (applied.status == StepStatus::kSuccess) {
      applied.status = StepStatus::kRolledBack;
      applied.items_kept = cursor->info.items_kept;
      applied.kept_keys = cursor->info.kept_keys;
      applied.down = cursor->info.down;
      entry = std::move(applied);
      writer.Put(&wb, cursor->history_seq, entry);
      written = true;
    }
  } else if (cursor->info.down) {
    // A down pass that did not finish: the applied step's entry (its
    // history_seq) stands; the pass gets an entry of its own.
    cursor->history_seq = writer.Append(&wb, entry);
    written = true;
  }
  if (!written) {
    if (cursor->history_seq != 0) {
      writer.Put(&wb, cursor->history_seq, entry);
    } else {
      cursor->history_seq = writer.Append(&wb, entry);
    }
  }
  entry.sequence = cursor->history_seq;

  for (HistoryEntry stamp : outcome.unstamps) {
    stamp.status = StepStatus::kRolledBack;
    writer.Put(&wb, stamp.sequence, stamp);
  }
  if (outcome.version) meta_.PutVersion(&wb, *outcome.version);
  switch (outcome.cursor_change) {
    case Outcome::CursorChange::kKeep:
      meta_.PutCursor(&wb, *cursor);
      break;
    case Outcome::CursorChange::kDelete:
      meta_.DeleteCursor(&wb);
      break;
    case Outcome::CursorChange::kReplace:
      meta_.PutCursor(&wb, *outcome.next);
      if (outcome.next_manifest) {
        backups_.PutManifest(&wb, backups_.write_cf(), *outcome.next_manifest);
      }
      break;
  }
  if (outcome.backup_change != Outcome::BackupChange::kNone) {
    RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                        backups_.Resolve(cursor->info.backup_column_family));
    const std::string& id = *cursor->info.backup_id;
    if (outcome.backup_change == Outcome::BackupChange::kDelete) {
      backups_.StageDelete(&wb, cf, id);
    } else {
      RM_ASSIGN_OR_RETURN(std::optional<BackupInfo> manifest,
                          backups_.Get(id, cursor->info.backup_column_family));
      if (!manifest) {
        return BookkeepingError(id, "the step's backup manifest vanished");
      }
      manifest->complete = true;
      manifest->item_count = cursor->info.items_migrated;
      backups_.PutManifest(&wb, cf, *manifest);
    }
  }
  RM_RETURN_IF_ERROR(meta_.Commit(&wb, what));
  return entry;
}

absl::StatusOr<Cursor> Migrator::Impl::StartStep(const Step& step,
                                                 const std::string& run_id) {
  const absl::Time now = options_.clock();
  Cursor c;
  c.info.run_id = run_id;
  c.info.state = StepState::kMigrating;
  c.info.from = step.from;
  c.info.to = step.to;
  c.info.started_at = FormatIsoTime(now);
  c.info.mode = options_.online ? RunMode::kOnline : RunMode::kOffline;
  c.backup = options_.backup;
  for (const Migration* m : step.migrations) {
    c.migrations.push_back(m->name());
    if (!m->source_file().empty()) c.checksums[m->source_file()] = m->checksum();
    RM_ASSIGN_OR_RETURN(bool has, meta_.HasRecordsUnder(m->prefix()));
    if (!has) c.empty_prefixes.push_back(m->prefix());
  }
  rocksdb::WriteBatch wb;
  if (c.backup) {
    RM_ASSIGN_OR_RETURN(std::string id, backups_.NewId(now));
    c.info.backup_id = id;
    c.info.backup_column_family = backups_.write_cf_name();
    backups_.PutManifest(&wb, backups_.write_cf(), NewManifest(c, step));
  }
  meta_.PutCursor(&wb, c);
  RM_RETURN_IF_ERROR(
      meta_.Commit(&wb, absl::StrCat("starting step ", step.Describe())));
  FaultPoint("step_start");
  return c;
}

absl::Status Migrator::Impl::BeginRestore(Cursor* cursor, RestoreReason reason,
                                          std::optional<int> rollback_target) {
  cursor->info.state = StepState::kRollingBack;
  cursor->info.reason = reason;
  cursor->info.rollback_target = rollback_target;
  cursor->has_last_key = false;
  cursor->info.last_key.clear();
  cursor->info.items_restored = 0;
  cursor->info.items_kept = 0;
  cursor->info.kept_keys.clear();
  rocksdb::WriteBatch wb;
  meta_.PutCursor(&wb, *cursor);
  return meta_.Commit(&wb, absl::StrCat("starting the restore of step ",
                                        StepName(cursor->info.from,
                                                 cursor->info.to)));
}

absl::Status Migrator::Impl::Stamp(int from, int to, const std::string& run_id,
                                   RunReport* report) {
  RM_ASSIGN_OR_RETURN(HistoryStore::Layout layout, history_.ReadLayout());
  HistoryStore::Writer writer(layout.count);
  HistoryEntry e;
  e.run_id = run_id;
  e.from = from;
  e.to = to;
  e.status = StepStatus::kStamped;
  e.started_at = FormatIsoTime(options_.clock());
  rocksdb::WriteBatch wb;
  meta_.PutVersion(&wb, to);
  e.sequence = writer.Append(&wb, e);
  RM_RETURN_IF_ERROR(meta_.Commit(
      &wb, absl::StrCat("stamping the database v", to)));
  report->stamped_empty = true;
  report->steps.push_back(e);
  report->to_version = to;
  return absl::OkStatus();
}

absl::StatusOr<Cursor> Migrator::Impl::RollbackCursor(
    const Undo& undo, int target, RollbackMethod method,
    std::optional<BackupInfo>* manifest) const {
  const HistoryEntry& e = undo.entry;
  Cursor c;
  c.info.run_id = e.run_id;
  c.info.state = StepState::kRollingBack;
  c.info.reason = RestoreReason::kRollback;
  c.info.from = e.from;
  c.info.to = e.to;
  c.info.started_at = FormatIsoTime(options_.clock());
  c.info.rollback_target = target;
  c.info.rollback_using = method;
  c.backup = true;
  c.migrations = e.migrations;
  c.checksums = e.checksums;
  c.history_seq = e.sequence;
  manifest->reset();
  if (undo.down) {
    // A down pass: migrating with `down`, its own backup of the records at
    // `to`, its own counts (the applied entry keeps the step's).
    const Step* step = registry_->FindStep(e.from);
    if (step == nullptr) {
      return absl::InternalError("the preflight let a down pass through "
                                 "without its step");
    }
    c.info.state = StepState::kMigrating;
    c.info.reason = RestoreReason::kNone;
    c.info.down = true;
    c.info.mode = options_.online ? RunMode::kOnline : RunMode::kOffline;
    RM_ASSIGN_OR_RETURN(std::string id, backups_.NewId(options_.clock()));
    c.info.backup_id = id;
    c.info.backup_column_family = backups_.write_cf_name();
    *manifest = NewManifest(c, *step);
    return c;
  }
  c.info.backup_id = e.backup_id;
  c.info.backup_column_family = undo.backup->column_family;
  c.info.items_migrated = e.items_migrated;
  c.info.items_skipped = e.items_skipped;
  c.info.items_ahead = e.items_ahead;
  c.info.mode = e.mode;
  return c;
}

absl::StatusOr<size_t> Migrator::Impl::PlanNext(const Cursor& cursor,
                                                const std::vector<Undo>& rest,
                                                Outcome* o, int* version) const {
  size_t taken = 0;
  while (taken < rest.size() && rest[taken].unstamp()) {
    o->unstamps.push_back(rest[taken].entry);
    *version = rest[taken].entry.from;
    ++taken;
  }
  if (taken < rest.size()) {
    o->cursor_change = Outcome::CursorChange::kReplace;
    RM_ASSIGN_OR_RETURN(
        o->next, RollbackCursor(rest[taken], *cursor.info.rollback_target,
                                cursor.info.rollback_using, &o->next_manifest));
  }
  return taken;
}

absl::Status Migrator::Impl::RecordPause(Cursor* cursor, StepStatus status,
                                         RunReport* report) {
  Outcome o;
  o.status = status;
  o.cursor_change = Outcome::CursorChange::kKeep;
  RM_ASSIGN_OR_RETURN(
      HistoryEntry entry,
      RecordOutcome(cursor, o,
                    absl::StrCat("recording the step as ", ToString(status))));
  report->steps.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status Migrator::Impl::ContinueStep(const Step& step, Cursor cursor,
                                          RunReport* report) {
  const absl::Time t0 = options_.clock();
  RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                      backups_.Resolve(cursor.info.backup_column_family));
  StepResult r = MigrateRecords(env_, step, cf, &cursor);
  cursor.elapsed_ms += MillisSince(t0);

  switch (r.kind) {
    case StepResult::Kind::kDone: {
      FaultPoint("before_step_finish");
      Outcome o;
      o.status = StepStatus::kSuccess;
      o.version = step.to;
      o.backup_change = cursor.backup ? Outcome::BackupChange::kComplete
                                      : Outcome::BackupChange::kNone;
      RM_ASSIGN_OR_RETURN(
          HistoryEntry entry,
          RecordOutcome(&cursor, o,
                        absl::StrCat("finishing step ", step.Describe())));
      report->steps.push_back(std::move(entry));
      report->to_version = step.to;
      return absl::OkStatus();
    }
    case StepResult::Kind::kStopped: {
      RM_RETURN_IF_ERROR(RecordPause(&cursor, StepStatus::kInterrupted, report));
      return absl::CancelledError(absl::StrCat(
          r.message, "; the ", cursor.info.items_migrated,
          " records migrated so far are committed and the run resumes where "
          "it stopped"));
    }
    case StepResult::Kind::kItemError: {
      cursor.info.error = r.message;
      if (!cursor.backup) {
        // SPEC §8.5: no backup, no restore. The step stays in flight where
        // it stopped; every record is wholly old or wholly new.
        RM_RETURN_IF_ERROR(RecordPause(&cursor, StepStatus::kFailed, report));
        return absl::AbortedError(absl::StrCat(
            r.message, "; the step runs without backups, so it stopped where "
                       "it was and cannot be rolled back: fix the record and "
                       "migrate again to continue"));
      }
      absl::Status verified = VerifiedBackupOf(cursor).status();
      if (!verified.ok()) {
        // The backup cannot be trusted to restore from: record the failure
        // and leave the step in flight, every record wholly old or new.
        RM_RETURN_IF_ERROR(RecordPause(&cursor, StepStatus::kFailed, report));
        return absl::Status(
            verified.code(),
            absl::StrCat(r.message, "; the step was not restored: ",
                         verified.message()));
      }
      RM_RETURN_IF_ERROR(BeginRestore(&cursor, RestoreReason::kItemError,
                                      std::nullopt));
      return FinishRestore(std::move(cursor), {}, report);
    }
    case StepResult::Kind::kFailed:
      return r.status;  // The committed batches stand; resumable.
  }
  return absl::InternalError("unknown step result");
}

absl::Status Migrator::Impl::FinishRestore(Cursor cursor,
                                           std::vector<Undo> rest,
                                           RunReport* report) {
  while (true) {
    if (cursor.info.down && cursor.info.state == StepState::kMigrating) {
      RM_ASSIGN_OR_RETURN(std::optional<Cursor> next,
                          ContinueDown(std::move(cursor), &rest, report));
      if (!next) return absl::OkStatus();
      cursor = std::move(*next);
      continue;
    }
    RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                        backups_.Resolve(cursor.info.backup_column_family));
    StepResult r = RestoreRecords(env_, cf, &cursor);
    if (r.kind == StepResult::Kind::kStopped) {
      return absl::CancelledError(absl::StrCat(
          r.message, "; the restore is committed up to there and finishes "
                     "first whatever runs next"));
    }
    if (r.kind != StepResult::Kind::kDone) return r.status;
    FaultPoint("before_rollback_finish");

    const RestoreReason reason = cursor.info.reason;
    Outcome o;
    o.status = OutcomeOfRestore(reason);
    o.backup_change = Outcome::BackupChange::kDelete;
    // A down pass's restore leaves the step applied, at `to`.
    int version = cursor.info.down ? cursor.info.to : cursor.info.from;
    size_t taken = 0;
    if (reason == RestoreReason::kRollback) {
      RM_ASSIGN_OR_RETURN(taken, PlanNext(cursor, rest, &o, &version));
    }
    // Only a rollback moves the version; a failed or abandoned step never
    // did.
    if (reason == RestoreReason::kRollback) o.version = version;
    RM_ASSIGN_OR_RETURN(
        HistoryEntry entry,
        RecordOutcome(&cursor, o,
                      absl::StrCat("recording the restore of step ",
                                   StepName(cursor.info.from, cursor.info.to))));
    report->steps.push_back(std::move(entry));
    for (HistoryEntry& u : o.unstamps) {
      u.status = StepStatus::kRolledBack;
      report->steps.push_back(std::move(u));
    }
    report->to_version = version;

    if (reason == RestoreReason::kItemError && cursor.info.down) {
      return absl::AbortedError(absl::StrCat(
          cursor.info.error.value_or("item error"), "; the down pass of step ",
          StepName(cursor.info.from, cursor.info.to),
          " was undone: every record it had rewritten was restored to its "
          "bytes before the pass, the step stays applied and the database at "
          "v", cursor.info.to,
          "; fix the record or the migration's down, or roll back from a "
          "backup (--using backup) if one exists"));
    }
    if (reason == RestoreReason::kItemError) {
      return absl::AbortedError(absl::StrCat(
          cursor.info.error.value_or("item error"), "; every record of step ",
          StepName(cursor.info.from, cursor.info.to),
          " was restored to its bytes before the step and the database stays "
          "at v", cursor.info.from,
          "; fix the record or the migration and migrate again"));
    }
    if (!o.next) return absl::OkStatus();
    cursor = std::move(*o.next);
    rest.erase(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(taken) + 1);
  }
}

}  // namespace rocksmigrate
