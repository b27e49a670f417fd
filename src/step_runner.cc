#include "src/step_runner.h"

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksdb/utilities/transaction_db.h"
#include "src/fault_point.h"
#include "src/backup_store.h"
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

// Locks the records of a batch beside a live server, in a worker, after
// its transform: a pessimistic transaction locks each record
// (GetForUpdate without a read, in key order), the values they hold now are
// read in one MultiGet, and each record whose value changed since the scan
// read it is migrated again from that value (a server's write that came
// first is migrated, or kept when it is already at the step's version; a
// record the server deleted is left alone). The transaction writes
// nothing: it holds the locks in `out->locks` until the batch is committed
// (through MetaStore::Commit, which skips concurrency control: sound,
// because every record of the batch is locked here and the rest is
// bookkeeping only the lease holder writes), so a server's write either
// came first or comes after the commit. Lock timeouts are retried, then
// reported in `out->failure`; an item error in `out->error`.
//
// When the reader began `snapshot_txn` before it read the batch (its
// snapshot no newer than the batch's reads), each lock validates the record
// against that snapshot instead: a record no one wrote since (found in the
// memtables alone, as a rule) needs no re-read, and only the records a
// write reached are read again.
// Decides change `c` again from `current`, what its record holds under the
// lock: unchanged since the scan, it stands; otherwise the record is
// migrated from `current` (kept and counted when the migration keeps it).
// Appends to `changes`; false on an item error (set in `out->error`).
bool Redecide(const Migration& m, Change c, std::string_view current,
              PreparedBatch* out, std::vector<Change>* changes) {
  if (current == c.old_value) {
    changes->push_back(std::move(c));
    return true;
  }
  absl::StatusOr<ItemResult> r = CallMigration(m, c.key, current);
  if (!r.ok()) {
    out->error = ItemFailure{c.key, std::string(r.status().message())};
    return false;
  }
  if (r->kind() == ItemResult::Kind::kKeep) {
    ++out->skipped;
    if (r->newer()) ++out->newer;
    return true;
  }
  Change fresh{std::move(c.key), std::string(current), r->kind(), {}, {}};
  if (r->kind() == ItemResult::Kind::kWrite) fresh.new_value = r->release_value();
  changes->push_back(std::move(fresh));
  return true;
}

void LockAndRecheck(rocksdb::TransactionDB* txn_db, const Migration& m,
                    std::unique_ptr<rocksdb::Transaction> snapshot_txn,
                    PreparedBatch* out) {
  const size_t n = out->changes.size();
  if (n == 0) return;
  rocksdb::Status rs;
  if (snapshot_txn != nullptr) {
    std::vector<size_t> reread;  // Indexes of records written since.
    for (size_t i = 0; i < n && rs.ok(); ++i) {
      const Change& c = out->changes[i];
      rs = snapshot_txn->GetForUpdate(rocksdb::ReadOptions(), c.key,
                                      static_cast<std::string*>(nullptr),
                                      /*exclusive=*/true, /*do_validate=*/true);
      const bool written_since =
          rs.IsTryAgain() ||
          (rs.IsBusy() && rs.subcode() != rocksdb::Status::kDeadlock);
      if (written_since) {
        rs = snapshot_txn->GetForUpdate(rocksdb::ReadOptions(), c.key,
                                        static_cast<std::string*>(nullptr),
                                        /*exclusive=*/true,
                                        /*do_validate=*/false);
        reread.push_back(i);
      }
    }
    if (rs.ok()) {
      std::vector<Change> changes;
      changes.reserve(n);
      size_t next_reread = 0;
      for (size_t i = 0; i < n; ++i) {
        Change& c = out->changes[i];
        if (next_reread < reread.size() && reread[next_reread] == i) {
          ++next_reread;
          std::string current;
          rocksdb::Status g =
              txn_db->Get(rocksdb::ReadOptions(), c.key, &current);
          if (g.IsNotFound()) {  // Deleted by the server.
            ++out->skipped;
            continue;
          }
          if (!g.ok()) {
            out->failure = FromRocksDb(
                g, absl::StrCat("reading key '", PrintableKey(c.key), "'"));
            return;
          }
          if (!Redecide(m, std::move(c), current, out, &changes)) return;
          continue;
        }
        changes.push_back(std::move(c));
      }
      out->changes = std::move(changes);
      out->locks = std::move(snapshot_txn);
      return;
    }
    // A lock timeout or deadlock: start again without the snapshot.
    snapshot_txn->Rollback().PermitUncheckedError();
    snapshot_txn.reset();
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(
        txn_db->BeginTransaction(rocksdb::WriteOptions()));
    for (const Change& c : out->changes) {
      rs = txn->GetForUpdate(rocksdb::ReadOptions(), c.key,
                             static_cast<std::string*>(nullptr));
      if (!rs.ok()) break;
    }
    if (!rs.ok()) {
      txn->Rollback().PermitUncheckedError();
      if (rs.IsBusy() || rs.IsTimedOut() || rs.IsTryAgain()) continue;
      out->failure = FromRocksDb(rs, absl::StrCat("locking a batch ending at key '",
                                                  PrintableKey(out->last_key), "'"));
      return;
    }
    std::vector<rocksdb::Slice> keys;
    keys.reserve(n);
    for (const Change& c : out->changes) keys.emplace_back(c.key);
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    txn_db->MultiGet(rocksdb::ReadOptions(), txn_db->DefaultColumnFamily(), n,
                     keys.data(), values.data(), statuses.data(),
                     /*sorted_input=*/true);
    std::vector<Change> changes;
    changes.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Change& c = out->changes[i];
      if (statuses[i].IsNotFound()) {  // Deleted by the server.
        ++out->skipped;
        continue;
      }
      if (!statuses[i].ok()) {
        out->failure = FromRocksDb(
            statuses[i], absl::StrCat("reading key '", PrintableKey(c.key), "'"));
        return;
      }
      if (!Redecide(m, std::move(c),
                    std::string_view(values[i].data(), values[i].size()), out,
                    &changes)) {
        return;
      }
    }
    out->changes = std::move(changes);
    out->locks = std::move(txn);
    return;
  }
  out->failure = absl::DeadlineExceededError(absl::StrCat(
      "locking a batch ending at key '", PrintableKey(out->last_key), "': ",
      rs.ToString(), " (lock timeouts persisted after 5 attempts; the run "
      "can be resumed)"));
}

// Restores one batch of an online step's backup (`batch.changes` hold each
// key and its original bytes): a record is put back only if it still holds
// what the migrator wrote, as the digest kept beside the backup says, read
// under the record's lock on a TransactionDB; the others are kept as the
// server rewrote them, and counted. A record without a digest (committed
// while the step ran offline) is put back. `next` holds the counts before
// the batch; on success they include it.
StepResult CommitCompared(const StepEnv& env,
                          rocksdb::ColumnFamilyHandle* backup_cf,
                          const std::string& id, const PreparedBatch& batch,
                          DigestLookup* digests, Cursor* next) {
  rocksdb::DB* db = env.meta->db();
  rocksdb::TransactionDB* txn_db = env.meta->txn_db();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(
        txn_db != nullptr ? txn_db->BeginTransaction(wo) : nullptr);
    rocksdb::WriteBatch wb;
    Cursor cursor = *next;
    rocksdb::Status rs;
    for (const Change& c : batch.changes) {
      absl::StatusOr<std::optional<std::string>> digest = digests->Find(c.key);
      if (!digest.ok()) return StepResult::Failed(digest.status());
      bool restore = !digest->has_value();
      if (!restore) {
        std::string current;
        rs = txn != nullptr
                 ? txn->GetForUpdate(rocksdb::ReadOptions(), c.key, &current)
                 : db->Get(rocksdb::ReadOptions(), c.key, &current);
        if (!rs.ok() && !rs.IsNotFound()) break;
        restore = HoldsWritten(**digest, rs.IsNotFound() ? nullptr : &current);
      }
      rs = rocksdb::Status::OK();
      if (!restore) {
        ++cursor.info.items_kept;
        if (cursor.info.kept_keys.size() < 10) {
          cursor.info.kept_keys.push_back(c.key);
        }
        continue;
      }
      ++cursor.info.items_restored;
      rs = txn != nullptr ? txn->Put(c.key, c.new_value)
                          : wb.Put(c.key, c.new_value);
      if (!rs.ok()) break;
    }
    if (rs.ok()) {
      rs = txn != nullptr ? txn->Put(kProgressKey, EncodeCursor(cursor))
                          : rocksdb::Status::OK();
    }
    absl::Status committed;
    if (rs.ok() && txn != nullptr) {
      rs = txn->Commit();
    } else if (rs.ok()) {
      env.meta->PutCursor(&wb, cursor);
      committed = env.meta->Commit(
          &wb, absl::StrCat("restoring records from backup ", id));
      if (!committed.ok()) return StepResult::Failed(std::move(committed));
    }
    if (rs.ok()) {
      *next = std::move(cursor);
      return StepResult::Done();
    }
    if (txn != nullptr) txn->Rollback().PermitUncheckedError();
    last = FromRocksDb(rs, absl::StrCat("restoring records from backup ", id));
    if (!(rs.IsBusy() || rs.IsTimedOut() || rs.IsTryAgain())) {
      return StepResult::Failed(last);
    }
  }
  return StepResult::Failed(absl::DeadlineExceededError(absl::StrCat(
      last.message(), " (lock timeouts persisted after 5 attempts; the "
                      "restore can be resumed)")));
}

// Fills the cursor's live figures (SPEC: what `status` shows of a run).
void StampProgress(const StepEnv& env, const ProgressMeter& meter,
                   Cursor* next) {
  const MigratorOptions& opt = *env.options;
  next->info.updated_at = FormatIsoTime(opt.clock());
  const Progress& p = meter.last();
  next->info.records_per_second =
      p.items_per_second > 0 ? static_cast<uint64_t>(p.items_per_second) : 0;
  next->info.items_total_estimate = p.items_total_estimate;
  next->info.pacing = opt.pacer != nullptr ? opt.pacer->state() : "";
}

// Records a change of what holds the run back (a pause, a stall) in the
// cursor alone, so that `status` shows it while no batch commits. Best
// effort: a failure here is met again by the next batch's commit.
void NotePacing(const StepEnv& env, Cursor cursor, const std::string& state) {
  cursor.info.pacing = state;
  cursor.info.updated_at = FormatIsoTime(env.options->clock());
  rocksdb::WriteBatch wb;
  env.meta->PutCursor(&wb, cursor);
  env.meta->Commit(&wb, "recording the pacing state").IgnoreError();
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
  // An online migrator resuming a step begun offline keeps digests from
  // here on (records committed before have none: see RestoreRecords).
  if (opt.online) cursor->info.mode = RunMode::kOnline;
  const bool locked = opt.concurrent_writers || opt.online;
  const bool digests = cursor->backup && cursor->info.mode == RunMode::kOnline;
  rocksdb::TransactionDB* txn_db = env.meta->txn_db();
  ProgressMeter meter(opt, Progress::Phase::kMigrating, step.from, step.to,
                      EstimateRecords(env.meta->db(), nullptr, all_ranges),
                      before);

  PipelineOptions popt;
  popt.workers = opt.threads;
  popt.batch_items = opt.batch_items;
  // Bytes read; a changed record writes about twice its size (backup + new).
  popt.batch_bytes = cursor->backup ? std::max<size_t>(1, opt.batch_bytes / 2)
                                    : opt.batch_bytes;

  auto transform = [&step, locked, digests, txn_db](RawBatch& raw,
                                                    PreparedBatch* out) {
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
                                  ItemResult::Kind::kDelete, {}, {}});
          break;
        case ItemResult::Kind::kWrite:
          out->changes.push_back({std::move(item.key), std::move(item.value),
                                  ItemResult::Kind::kWrite,
                                  r->release_value(), {}});
          break;
      }
      item.value = std::string();  // Moved or not needed: free it now.
    }
    if (locked) {
      LockAndRecheck(txn_db, m, std::move(raw.txn), out);
      if (out->error || !out->failure.ok()) return;
    }
    if (digests) {
      for (Change& c : out->changes) c.digest = WrittenDigest(c.kind, c.new_value);
    }
  };

  // One write batch for the whole step, cleared for each batch, so its
  // buffer (about 2 x batch_bytes) is allocated once rather than regrown
  // for every batch.
  rocksdb::WriteBatch wb;
  // The typed end of the phase; the pipeline only carries "stop".
  StepResult result;
  const absl::Status kStop = absl::CancelledError("stop");
  // Serializes the cursor's writes: the consuming thread's commits and the
  // reader's notes of a pause (NotePacing), so that a note never writes an
  // older cursor over a newer one.
  std::mutex cursor_mu;

  if (locked) {
    popt.begin_batch = [txn_db]() {
      rocksdb::TransactionOptions to;
      to.set_snapshot = true;
      return std::unique_ptr<rocksdb::Transaction>(
          txn_db->BeginTransaction(rocksdb::WriteOptions(), to));
    };
  }
  // Pacing, in the reader before each batch is read further: a paused or
  // throttled run holds no record lock (none is taken before a batch is
  // admitted) and, after a long wait, no old iterator.
  bool pacer_stopped = false;
  if (opt.pacer != nullptr) {
    popt.admit = [&](size_t records, size_t bytes, bool* waited_long) {
      const absl::Time start = absl::Now();
      absl::Status s = opt.pacer->Admit(
          env.meta->db(), records, 2 * bytes, opt.stop_requested,
          [&](const std::string& state) {
            std::lock_guard<std::mutex> lock(cursor_mu);
            NotePacing(env, *cursor, state);
          });
      *waited_long = absl::Now() - start > absl::Seconds(1);
      if (!s.ok()) pacer_stopped = true;
      return s;
    };
  }

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
    if (!batch.failure.ok()) {
      result = StepResult::Failed(batch.failure);
      return kStop;
    }
    FaultPoint("before_batch");
    Cursor next = *cursor;
    StampProgress(env, meter, &next);
    next.prefix_index = batch.tag;
    next.has_last_key = true;
    next.info.last_key = batch.last_key;
    next.info.prefix = m.prefix();
    wb.Clear();
    if (cursor->backup) {
      std::vector<DigestEntry> block;
      for (const Change& c : batch.changes) {
        env.backups->PutRecord(&wb, backup_cf, *cursor->info.backup_id,
                               c.key, c.old_value);
        if (!c.digest.empty()) block.push_back({c.key, c.digest});
      }
      if (!block.empty()) {
        // One entry per batch: RocksDB's cost is per entry.
        wb.Put(backup_cf,
               BackupDigestKey(*cursor->info.backup_id, block.back().key),
               EncodeDigestBlock(block));
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
    {
      std::lock_guard<std::mutex> lock(cursor_mu);
      // The pacing state is read under the lock NotePacing takes: a hold
      // noted after StampProgress read the state is not written over.
      next.info.pacing = opt.pacer != nullptr ? opt.pacer->state() : "";
      env.meta->PutCursor(&wb, next);
      FaultPoint("before_commit");
      absl::Status s = env.meta->Commit(
          &wb, absl::StrCat("committing a batch ending at key '",
                            PrintableKey(batch.last_key), "'"));
      if (batch.locks != nullptr) {  // Committed or not: release the records.
        batch.locks->Rollback().PermitUncheckedError();
        batch.locks.reset();
      }
      if (!s.ok()) {
        result = StepResult::Failed(std::move(s));
        return kStop;
      }
      *cursor = std::move(next);
    }
    FaultPoint("after_commit");
    meter.AddBatch(wb.GetDataSize());
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
  if (pacer_stopped) {
    return StepResult::Stopped(absl::StrCat(
        "interrupted in step ", step.Describe(), " after key '",
        PrintableKey(cursor->info.last_key), "'"));
  }
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
                      cursor->info.items_restored + cursor->info.items_kept);
  PipelineOptions popt;
  popt.workers = 1;
  popt.batch_items = opt.batch_items;
  popt.batch_bytes = opt.batch_bytes;
  popt.column_family = backup_cf;
  const size_t strip = id.size() + 1;

  auto transform = [strip](RawBatch& raw, PreparedBatch* out) {
    for (RawItem& item : raw.items) {
      out->changes.push_back({item.key.substr(strip), {},
                              ItemResult::Kind::kWrite, std::move(item.value), {}});
    }
  };
  rocksdb::WriteBatch wb;  // Reused; see MigrateRecords.
  StepResult result;
  const absl::Status kStop = absl::CancelledError("stop");
  const bool compared = cursor->info.mode == RunMode::kOnline;
  DigestLookup digests(env.meta->db(), backup_cf, id);
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    Cursor next = *cursor;
    next.has_last_key = true;
    next.info.last_key = batch.last_key.substr(strip);
    next.info.updated_at = FormatIsoTime(opt.clock());
    next.info.pacing.clear();
    if (compared) {
      result = CommitCompared(env, backup_cf, id, batch, &digests, &next);
      if (result.kind != StepResult::Kind::kDone) return kStop;
    } else {
      wb.Clear();
      for (const Change& c : batch.changes) wb.Put(c.key, c.new_value);
      next.info.items_restored += batch.changes.size();
      env.meta->PutCursor(&wb, next);
      absl::Status s = env.meta->Commit(
          &wb, absl::StrCat("restoring records from backup ", id));
      if (!s.ok()) {
        result = StepResult::Failed(std::move(s));
        return kStop;
      }
    }
    *cursor = std::move(next);
    FaultPoint("rollback_batch");
    uint64_t restored_bytes = 0;
    for (const Change& c : batch.changes) {
      restored_bytes += c.key.size() + c.new_value.size();
    }
    meter.AddBatch(restored_bytes);
    meter.Report(cursor->info.items_restored + cursor->info.items_kept, "");
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
