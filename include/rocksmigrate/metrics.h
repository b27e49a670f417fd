// Metrics of a database's migrations: a snapshot of counters and gauges read
// from the bookkeeping (the same keys `status` reads, never the records),
// and its rendering in the Prometheus text exposition format, for a
// server's own /metrics endpoint or a node_exporter textfile (the admin
// tool's `--metrics-file`). README "Metrics" lists every metric.
#ifndef ROCKSMIGRATE_METRICS_H_
#define ROCKSMIGRATE_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksmigrate/health.h"
#include "rocksmigrate/migrator.h"

namespace rocksmigrate {

struct MetricsSnapshot {
  // The database.
  int schema_version = 0;
  int target_version = 0;
  uint64_t pending_steps = 0;
  Health health = Health::kReady;
  // The run in flight (all zero when none).
  bool run_in_progress = false;
  int step_from = 0;
  int step_to = 0;
  // Records visited in the step (migrated + skipped, or restored + kept),
  // its estimated records (0 when unknown) and its last recorded rate.
  uint64_t step_records_done = 0;
  uint64_t step_records_estimate = 0;
  double records_per_second = 0;
  // Over the whole history plus the run in flight: records rewritten (or
  // deleted), records left as they were, and records that failed (each
  // failed step stops at its first failing record).
  uint64_t records_migrated_total = 0;
  uint64_t records_skipped_total = 0;
  uint64_t records_failed_total = 0;
  // History entries by status ("success", "failed", ...: ToString()).
  std::map<std::string, uint64_t> steps_total;
  // When the newest successful step (or stamp) ended; nullopt when none.
  std::optional<absl::Time> last_success;
  // Backups (every manifest, readable or not) and their estimated bytes.
  uint64_t backups = 0;
  uint64_t backup_bytes = 0;
  // Counted by this process (RunCounters) since it started: batches
  // committed and bytes of keys and values they wrote.
  uint64_t batches_committed_total = 0;
  uint64_t bytes_written_total = 0;
};

// Reads the snapshot through `migrator` (Inspect(), the history, the
// backups' manifests and size estimates). Safe beside a run of another
// Migrator on the same database (it only reads). Errors are those of
// Inspect(); untrusted bookkeeping is not an error (health says kRefused).
absl::StatusOr<MetricsSnapshot> CollectMetrics(const Migrator& migrator);

// Counts batches and bytes from a run's Progress reports (pass each to
// Observe() from MigratorOptions::on_progress) across its steps.
// Thread-safety: every method is safe to call from any thread.
class RunCounters {
 public:
  void Observe(const Progress& p);
  // Adds the counts so far to `snapshot`.
  void AddTo(MetricsSnapshot* snapshot) const;

 private:
  mutable std::mutex mu_;
  uint64_t batches_done_ = 0;  // Of steps already left.
  uint64_t bytes_done_ = 0;
  Progress current_;           // The step being reported.
  bool has_current_ = false;
};

// The snapshot in the Prometheus text exposition format (version 0.0.4):
// `rocksmigrate_` names in base units, `_total` counters, HELP and TYPE
// for each.
std::string ToPrometheusText(const MetricsSnapshot& snapshot);

// Writes `text` to `path` atomically: a temporary file beside it, synced,
// then renamed over it, so that a scraper never reads half a file (the
// node_exporter textfile convention). The error names the path.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_METRICS_H_
