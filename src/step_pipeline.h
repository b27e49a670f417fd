// The per-record pipeline (DESIGN.md): one thread reads key ranges in order
// and cuts them into batches bounded by items and bytes; worker threads
// transform batches; the calling thread consumes them strictly in key order
// (commits them, or counts them in a dry run).
//
//   iterator ── RawBatch ──▶ workers: transform ──▶ PreparedBatch ──▶ consume
//   (snapshot)               (N threads)            (in order)       (caller)
//
// Memory is bounded by the batches in flight, not by the dataset: at most
// 2 * workers + 2 batches, holding at most that many times batch_bytes of
// records read (a batch holding one record larger than batch_bytes is let
// in only when nothing else is in flight, so a 64 MiB record is never read
// beside others).
#ifndef ROCKSMIGRATE_SRC_STEP_PIPELINE_H_
#define ROCKSMIGRATE_SRC_STEP_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "src/keys.h"

namespace rocksmigrate {

// One key range to scan, tagged with the caller's index (a prefix index).
struct ScanRange {
  KeyRange range;
  size_t tag = 0;
  // Start strictly after this key (resume), instead of at range.begin.
  std::optional<std::string> after;
};

struct RawItem {
  std::string key;
  std::string value;
};

struct RawBatch {
  uint64_t seq = 0;
  size_t tag = 0;
  std::vector<RawItem> items;
  // With PipelineOptions::begin_batch: the transaction begun before the
  // batch was read (its snapshot is no newer than what the batch read);
  // nullptr if the batch waited long in the pacing after it was read.
  std::unique_ptr<rocksdb::Transaction> txn;
};

// A record the batch changes.
struct Change {
  std::string key;
  std::string old_value;
  ItemResult::Kind kind = ItemResult::Kind::kWrite;
  std::string new_value;
  // Online steps: WrittenDigest() of what the change writes (computed by a
  // worker), kept beside the backup.
  std::string digest;
};

// Per-step counters of a dry run batch.
struct DryRunCounts {
  uint64_t migrate = 0, remove = 0, skipped = 0, ahead = 0, failed = 0,
           bytes = 0;
  std::vector<ItemFailure> failures;  // The first few, in key order.
};

struct PreparedBatch {
  uint64_t seq = 0;
  size_t tag = 0;
  std::string last_key;  // The batch's last key read (the resume point).
  uint64_t visited = 0;  // Records read.
  uint64_t skipped = 0;  // Records the migration kept.
  uint64_t newer = 0;    // Of those, records already past the step.
  std::vector<Change> changes;
  // The first item error of the batch, in key order.
  std::optional<ItemFailure> error;
  // Dry run only: counters per step.
  std::vector<DryRunCounts> dry_counts;
  // Locked steps: the transaction that holds the locks of the batch's
  // records from the worker's re-read until the batch is committed.
  std::unique_ptr<rocksdb::Transaction> locks;
  // A read or lock error met by the worker (the batch must not be
  // committed).
  absl::Status failure;
};

struct PipelineOptions {
  int workers = 1;
  size_t batch_items = 1000;
  // Bytes of keys and values read per batch; a larger record is alone.
  size_t batch_bytes = 2 << 20;
  rocksdb::ColumnFamilyHandle* column_family = nullptr;  // nullptr: default.
  // The reader replaces its iterator (seeking just past the last key read)
  // after this many bytes of keys and values. An iterator pins the memtables
  // and SST files that were live when it was made; one iterator held for a
  // whole step would keep every memtable it saw and every file compaction
  // has since replaced, in memory and on disk, growing with the data. A new
  // iterator also sees writes made since (as a resumed run would).
  size_t iterator_refresh_bytes = 8 << 20;
  // Called by the reader before it hands over each batch (`records` read,
  // `bytes` of keys and values): the pacing. It may wait; it sets
  // `*waited_long` after a wait of over a second, and the reader then takes
  // a new iterator (a long pause pins nothing). A non-OK status ends the
  // scan: the batches handed over are still consumed, then RunPipeline()
  // returns it. Default: none.
  std::function<absl::Status(size_t records, size_t bytes, bool* waited_long)>
      admit;
  // When set, the reader calls it before it reads each batch and reads the
  // batch with an iterator made after that call, so that a write the
  // returned transaction's snapshot does not see is either seen by the
  // batch or found by validating against that snapshot. Default: none.
  std::function<std::unique_ptr<rocksdb::Transaction>()> begin_batch;
};

// Runs `ranges` through `transform` (on worker threads; must be thread-safe)
// and `consume` (on the calling thread, in key order). Stops at the first
// non-OK status from `consume` and returns it; returns a read error of the
// iterator (corruption included: no key is ever skipped silently); else OK
// once every batch was consumed.
absl::Status RunPipeline(
    rocksdb::DB* db, const std::vector<ScanRange>& ranges,
    const PipelineOptions& options,
    const std::function<void(RawBatch&, PreparedBatch*)>& transform,
    const std::function<absl::Status(PreparedBatch&)>& consume);

// Calls `migration` for one record, turning an exception into an item error.
absl::StatusOr<ItemResult> CallMigration(const Migration& migration,
                                         std::string_view key,
                                         std::string_view value);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_STEP_PIPELINE_H_
