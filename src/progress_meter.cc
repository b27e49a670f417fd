#include "src/progress_meter.h"

#include <algorithm>

#include "rocksdb/table_properties.h"

namespace rocksmigrate {

uint64_t EstimateRecords(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                         const std::vector<KeyRange>& ranges) {
  if (cf == nullptr) cf = db->DefaultColumnFamily();
  uint64_t total = 0;
  for (const KeyRange& kr : ranges) {
    // An unbounded range ends at the largest key we can name.
    const std::string end = kr.end ? *kr.end : std::string(64, '\xff');
    rocksdb::Range range(kr.begin, end);

    uint64_t mem_count = 0, mem_size = 0;
    db->GetApproximateMemTableStats(cf, range, &mem_count, &mem_size);
    total += mem_count;

    rocksdb::TablePropertiesCollection props;
    if (!db->GetPropertiesOfTablesInRange(cf, &range, 1, &props).ok()) {
      continue;
    }
    uint64_t entries = 0, file_bytes = 0;
    for (const auto& [name, p] : props) {
      entries += p->num_entries - p->num_deletions;
      file_bytes += p->data_size + p->index_size + p->filter_size;
    }
    if (entries == 0 || file_bytes == 0) continue;
    // Files that straddle the range hold records of other prefixes too:
    // scale by the share of their bytes that lies inside the range.
    uint64_t in_range = 0;
    rocksdb::SizeApproximationOptions sao;
    sao.include_files = true;
    sao.include_memtables = false;
    if (db->GetApproximateSizes(sao, cf, &range, 1, &in_range).ok()) {
      double share = std::min(1.0, static_cast<double>(in_range) /
                                       static_cast<double>(file_bytes));
      total += static_cast<uint64_t>(static_cast<double>(entries) * share);
    } else {
      total += entries;
    }
  }
  return total;
}

ProgressMeter::ProgressMeter(const MigratorOptions& options,
                             Progress::Phase phase, int step_from, int step_to,
                             uint64_t total_estimate, uint64_t items_before)
    : options_(options), items_before_(items_before) {
  progress_.phase = phase;
  progress_.step_from = step_from;
  progress_.step_to = step_to;
  progress_.items_total_estimate = total_estimate;
  start_ = options_.clock();
}

void ProgressMeter::Report(uint64_t items_done, const std::string& prefix) {
  progress_.prefix = prefix;
  progress_.items_done = items_done;
  progress_.elapsed = options_.clock() - start_;
  double seconds = absl::ToDoubleSeconds(progress_.elapsed);
  uint64_t done_now = items_done - std::min(items_done, items_before_);
  progress_.items_per_second = seconds > 0 ? done_now / seconds : 0;
  if (progress_.items_total_estimate < items_done) {
    progress_.items_total_estimate = items_done;
  }
  if (progress_.items_per_second > 0 && progress_.items_total_estimate > 0) {
    progress_.eta_seconds =
        (progress_.items_total_estimate - items_done) / progress_.items_per_second;
  } else {
    progress_.eta_seconds = -1;
  }
  if (options_.on_progress) options_.on_progress(progress_);
}

}  // namespace rocksmigrate
