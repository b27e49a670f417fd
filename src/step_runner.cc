#include "src/step_runner.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksdb/utilities/transaction_db.h"
#include "src/fault_point.h"
#include "src/keys.h"
#include "src/progress_meter.h"
#include "src/rocksdb_status.h"
#include "src/step_pipeline.h"
#include "rocksmigrate/status_macros.h"

namespace rocksmigrate {
namespace {


std::string ItemErrorMessage(const Step& step, const Migration& m,
                             const ItemFailure& failure) {
  std::string where = m.source_file().empty()
                          ? absl::StrCat("migration '", m.name(), "'")
                          : absl::StrCat("migration file ", m.source_file());
  return absl::StrCat("item error at key '", PrintableKey(failure.key),
                      "' in step ", step.Describe(), " (", where,
                      "): ", failure.message);
}

// The scan ranges of `step` that remain after `cursor`.
std::vector<ScanRange> RemainingRanges(const Step& step, const Cursor& cursor) {
  std::vector<ScanRange> out;
  for (size_t i = cursor.prefix_index; i < step.migrations.size(); ++i) {
    for (KeyRange& range : UserRanges(step.migrations[i]->prefix())) {
      ScanRange sr;
      sr.tag = i;
      if (i == cursor.prefix_index && cursor.has_last_key) {
        const std::string& last = cursor.info.last_key;
        if (range.end && last >= *range.end) continue;  // Range done.
        if (last >= range.begin) sr.after = last;
      }
      sr.range = std::move(range);
      out.push_back(std::move(sr));
    }
  }
  return out;
}

// Commits one batch as a pessimistic transaction: each record is locked
// with GetForUpdate and migrated from the value it holds now, so a server's
// concurrent write is either migrated (it came first) or kept (it comes
// after the commit). Lock timeouts are retried, then reported.
// `next` holds the counts before the batch; on success they include it.
StepResult CommitLocked(const StepEnv& env, const Step& step,
                        rocksdb::ColumnFamilyHandle* backup_cf,
                        PreparedBatch& batch, Cursor* next) {
  rocksdb::TransactionDB* txn_db = env.meta->txn_db();
  const Migration& m = *step.migrations[batch.tag];
  rocksdb::WriteOptions wo;
  wo.sync = true;
  absl::Status last;
  // The batch as prepared; each attempt starts from it.
  const std::vector<Change> prepared = batch.changes;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(txn_db->BeginTransaction(wo));
    std::vector<Change> attempt_changes = prepared;
    std::vector<Change> changes;
    uint64_t newer = 0;
    rocksdb::Status rs;
    for (Change& c : attempt_changes) {
      std::string current;
      rs = txn->GetForUpdate(rocksdb::ReadOptions(), c.key, &current);
      if (rs.IsNotFound()) {
        rs = rocksdb::Status::OK();
        continue;  // Deleted by the server since the scan: nothing to do.
      }
      if (!rs.ok()) break;
      if (current == c.old_value) {
        changes.push_back(std::move(c));
        continue;
      }
      absl::StatusOr<ItemResult> r = CallMigration(m, c.key, current);
      if (!r.ok()) {
        return StepResult::ItemError(ItemErrorMessage(
            step, m, ItemFailure{c.key, std::string(r.status().message())}));
      }
      if (r->kind() == ItemResult::Kind::kKeep) {
        if (r->newer()) ++newer;
        continue;
      }
      Change fresh{c.key, std::move(current), r->kind(), {}};
      if (r->kind() == ItemResult::Kind::kWrite) fresh.new_value = r->release_value();
      changes.push_back(std::move(fresh));
    }
    Cursor cursor = *next;
    cursor.info.items_migrated += changes.size();
    cursor.info.items_skipped +=
        batch.skipped + (prepared.size() - changes.size());
    cursor.info.items_ahead += batch.newer + newer;
    if (rs.ok() && cursor.backup) {
      for (const Change& c : changes) {
        rs = txn->Put(backup_cf,
                      BackupRecordKey(*cursor.info.backup_id, c.key),
                      c.old_value);
        if (!rs.ok()) break;
      }
    }
    if (rs.ok()) {
      for (const Change& c : changes) {
        rs = c.kind == ItemResult::Kind::kDelete ? txn->Delete(c.key)
                                                 : txn->Put(c.key, c.new_value);
        if (!rs.ok()) break;
      }
    }
    if (rs.ok()) rs = txn->Put(kProgressKey, EncodeCursor(cursor));
    if (rs.ok()) {
      FaultPoint("before_commit");
      rs = txn->Commit();
    }
    if (rs.ok()) {
      batch.changes = std::move(changes);
      *next = std::move(cursor);
      return StepResult::Done();
    }
    txn->Rollback().PermitUncheckedError();
    last = FromRocksDb(rs, absl::StrCat("committing a batch ending at key '",
                                        PrintableKey(batch.last_key), "'"));
    if (!(rs.IsBusy() || rs.IsTimedOut() || rs.IsTryAgain())) {
      return StepResult::Failed(last);
    }
  }
  return StepResult::Failed(absl::DeadlineExceededError(absl::StrCat(
      last.message(), " (lock timeouts persisted after 5 attempts; the run "
                      "can be resumed)")));
}

}  // namespace

StepResult MigrateRecords(const StepEnv& env, const Step& step,
                          rocksdb::ColumnFamilyHandle* backup_cf,
                          Cursor* cursor) {
  const MigratorOptions& opt = *env.options;
  std::vector<ScanRange> ranges = RemainingRanges(step, *cursor);
  std::vector<KeyRange> all_ranges;
  for (const Migration* m : step.migrations) {
    for (KeyRange& r : UserRanges(m->prefix())) all_ranges.push_back(std::move(r));
  }
  const uint64_t before = cursor->info.items_migrated + cursor->info.items_skipped;
  ProgressMeter meter(opt, Progress::Phase::kMigrating, step.from, step.to,
                      EstimateRecords(env.meta->db(), nullptr, all_ranges),
                      before);

  PipelineOptions popt;
  popt.workers = opt.threads;
  popt.batch_items = opt.batch_items;
  // Bytes read; a changed record writes about twice its size (backup + new).
  popt.batch_bytes = cursor->backup ? std::max<size_t>(1, opt.batch_bytes / 2)
                                    : opt.batch_bytes;

  auto transform = [&step](RawBatch& raw, PreparedBatch* out) {
    const Migration& m = *step.migrations[raw.tag];
    for (RawItem& item : raw.items) {
      absl::StatusOr<ItemResult> r = CallMigration(m, item.key, item.value);
      if (!r.ok()) {
        out->error = ItemFailure{item.key, std::string(r.status().message())};
        return;
      }
      switch (r->kind()) {
        case ItemResult::Kind::kKeep:
          ++out->skipped;
          if (r->newer()) ++out->newer;
          break;
        case ItemResult::Kind::kDelete:
          out->changes.push_back({std::move(item.key), std::move(item.value),
                                  ItemResult::Kind::kDelete, {}});
          break;
        case ItemResult::Kind::kWrite:
          out->changes.push_back({std::move(item.key), std::move(item.value),
                                  ItemResult::Kind::kWrite,
                                  r->release_value()});
          break;
      }
      item.value = std::string();  // Moved or not needed: free it now.
    }
  };

  // One write batch for the whole step, cleared for each batch, so its
  // buffer (about 2 x batch_bytes) is allocated once rather than regrown
  // for every batch.
  rocksdb::WriteBatch wb;
  // The typed end of the phase; the pipeline only carries "stop".
  StepResult result;
  const absl::Status kStop = absl::CancelledError("stop");

  // Each batch is one synced WAL write (SPEC §4: every commit is durable).
  // Committing without waiting for fsync and syncing behind the writer was
  // tried: after the fault suite made WAL writes and syncs exclusive (a sync
  // after a failed append aborts RocksDB 7.8), rocksmigrate-bench showed no
  // gain worth acknowledging commits before they are durable.
  //
  // Backups are written in the batch's WAL write, all of them before the
  // new values (the memtable's insert hint stays on one key range). Writing
  // them as ingested SST files instead was tried and dropped: on Debian's
  // RocksDB 7.8 an I/O fault inside IngestExternalFile is not survivable (a
  // failed MANIFEST sync leaves the edit while the file is deleted, and the
  // database no longer opens), which the fault suite showed.
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    const Migration& m = *step.migrations[batch.tag];
    if (batch.error) {
      result = StepResult::ItemError(ItemErrorMessage(step, m, *batch.error));
      return kStop;
    }
    FaultPoint("before_batch");
    Cursor next = *cursor;
    next.prefix_index = batch.tag;
    next.has_last_key = true;
    next.info.last_key = batch.last_key;
    next.info.prefix = m.prefix();
    if (opt.concurrent_writers) {
      // The counts depend on what the locked re-read finds.
      result = CommitLocked(env, step, backup_cf, batch, &next);
      if (result.kind != StepResult::Kind::kDone) return kStop;
    } else {
      wb.Clear();
      if (cursor->backup) {
        for (const Change& c : batch.changes) {
          env.backups->PutRecord(&wb, backup_cf, *cursor->info.backup_id,
                                 c.key, c.old_value);
        }
      }
      for (const Change& c : batch.changes) {
        if (c.kind == ItemResult::Kind::kDelete) {
          wb.Delete(c.key);
        } else {
          wb.Put(c.key, c.new_value);
        }
      }
      next.info.items_migrated += batch.changes.size();
      next.info.items_skipped += batch.skipped;
      next.info.items_ahead += batch.newer;
      env.meta->PutCursor(&wb, next);
      FaultPoint("before_commit");
      absl::Status s = env.meta->Commit(
          &wb, absl::StrCat("committing a batch ending at key '",
                            PrintableKey(batch.last_key), "'"));
      if (!s.ok()) {
        result = StepResult::Failed(std::move(s));
        return kStop;
      }
    }
    *cursor = std::move(next);
    FaultPoint("after_commit");
    meter.Report(cursor->info.items_migrated + cursor->info.items_skipped,
                 cursor->info.prefix);
    if (opt.stop_requested != nullptr && opt.stop_requested->load()) {
      result = StepResult::Stopped(absl::StrCat(
          "interrupted in step ", step.Describe(), " after key '",
          PrintableKey(cursor->info.last_key), "'"));
      return kStop;
    }
    return absl::OkStatus();
  };

  if (opt.stop_requested != nullptr && opt.stop_requested->load()) {
    return StepResult::Stopped(
        absl::StrCat("interrupted before step ", step.Describe()));
  }
  absl::Status s = RunPipeline(env.meta->db(), ranges, popt, transform, consume);
  if (s.ok()) return StepResult::Done();
  if (result.kind != StepResult::Kind::kDone) return result;
  return StepResult::Failed(std::move(s));  // A read error.
}

StepResult RestoreRecords(const StepEnv& env,
                          rocksdb::ColumnFamilyHandle* backup_cf,
                          Cursor* cursor) {
  const MigratorOptions& opt = *env.options;
  const std::string id = *cursor->info.backup_id;
  ScanRange sr;
  sr.range = BackupRecordRange(id);
  if (cursor->has_last_key) sr.after = BackupRecordKey(id, cursor->info.last_key);
  ProgressMeter meter(opt, Progress::Phase::kRollingBack, cursor->info.from,
                      cursor->info.to,
                      EstimateRecords(env.meta->db(), backup_cf, {sr.range}),
                      cursor->info.items_restored);
  PipelineOptions popt;
  popt.workers = 1;
  popt.batch_items = opt.batch_items;
  popt.batch_bytes = opt.batch_bytes;
  popt.column_family = backup_cf;
  const size_t strip = id.size() + 1;

  auto transform = [strip](RawBatch& raw, PreparedBatch* out) {
    for (RawItem& item : raw.items) {
      out->changes.push_back({item.key.substr(strip), {},
                              ItemResult::Kind::kWrite, std::move(item.value)});
    }
  };
  rocksdb::WriteBatch wb;  // Reused; see MigrateRecords.
  StepResult result;
  const absl::Status kStop = absl::CancelledError("stop");
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    wb.Clear();
    for (const Change& c : batch.changes) wb.Put(c.key, c.new_value);
    Cursor next = *cursor;
    next.has_last_key = true;
    next.info.last_key = batch.last_key.substr(strip);
    next.info.items_restored += batch.changes.size();
    env.meta->PutCursor(&wb, next);
    absl::Status s = env.meta->Commit(
        &wb, absl::StrCat("restoring records from backup ", id));
    if (!s.ok()) {
      result = StepResult::Failed(std::move(s));
      return kStop;
    }
    *cursor = std::move(next);
    FaultPoint("rollback_batch");
    meter.Report(cursor->info.items_restored, "");
    if (opt.stop_requested != nullptr && opt.stop_requested->load()) {
      result = StepResult::Stopped(absl::StrCat(
          "interrupted while restoring step v", cursor->info.from, " -> v",
          cursor->info.to, " from backup ", id));
      return kStop;
    }
    return absl::OkStatus();
  };
  absl::Status s = RunPipeline(env.meta->db(), {sr}, popt, transform, consume);
  if (s.ok()) return StepResult::Done();
  if (result.kind != StepResult::Kind::kDone) return result;
  return StepResult::Failed(std::move(s));
}

}  // namespace rocksmigrate
