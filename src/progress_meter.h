// Turns "records done" into the Progress the callback gets: rate, an
// estimate of the step's records, and an ETA.
#ifndef ROCKSMIGRATE_SRC_PROGRESS_METER_H_
#define ROCKSMIGRATE_SRC_PROGRESS_METER_H_

#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksmigrate/migrator.h"
#include "src/keys.h"

namespace rocksmigrate {

// Estimates the records in `ranges` from RocksDB's own statistics, without
// a scan: the entry counts of the SST files in the range (table properties,
// scaled by how much of each file the range covers) plus the memtables'
// counts. Returns 0 when RocksDB can say nothing.
uint64_t EstimateRecords(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                         const std::vector<KeyRange>& ranges);

// Thread-safety: not thread-safe; used by the consuming thread only.
class ProgressMeter {
 public:
  // `items_before`: records already done by an earlier attempt of the step.
  ProgressMeter(const MigratorOptions& options, Progress::Phase phase,
                int step_from, int step_to, uint64_t total_estimate,
                uint64_t items_before);

  // Counts one committed batch of `bytes` (keys and values written) into
  // the next Report().
  void AddBatch(uint64_t bytes) {
    ++progress_.batches;
    progress_.bytes_written += bytes;
  }
  // Reports `items_done` (cumulative for the step) for `prefix`.
  void Report(uint64_t items_done, const std::string& prefix);
  // The figures of the last Report() (zeros before the first).
  const Progress& last() const { return progress_; }

 private:
  const MigratorOptions& options_;
  Progress progress_;
  absl::Time start_;
  uint64_t items_before_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_PROGRESS_METER_H_
