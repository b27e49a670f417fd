#include "rocksmigrate/metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/status_macros.h"
#include "src/metadata.h"

namespace rocksmigrate {
namespace {

bool IsSuccess(StepStatus s) {
  return s == StepStatus::kSuccess || s == StepStatus::kStamped;
}

// The TYPE of a metric family (the kinds this exposition writes).
enum class MetricType { kGauge, kCounter };

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
  }
  return "untyped";
}

// The Prometheus text format: metric families (HELP, TYPE and their
// samples), one after the other.
class Exposition {
 public:
  void Family(const std::string& name, MetricType type, const char* help) {
    absl::StrAppend(&text_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    TypeName(type), "\n");
  }
  void Sample(const std::string& name, double value,
              const std::string& labels = "") {
    absl::StrAppend(&text_, name, labels.empty() ? "" : "{", labels,
                    labels.empty() ? "" : "}", " ", Number(value), "\n");
  }
  // A family of one sample without labels.
  void Metric(const std::string& name, MetricType type, const char* help,
              double value) {
    Family(name, type, help);
    Sample(name, value);
  }
  std::string Release() { return std::move(text_); }

 private:
  static std::string Number(double v) {
    if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 &&
        v > -9e15) {
      return absl::StrCat(static_cast<int64_t>(v));
    }
    return absl::StrFormat("%.6g", v);
  }
  std::string text_;
};

std::string Label(const std::string& name, const std::string& value) {
  // Our label values are ToString() words: no quote, backslash or newline.
  return absl::StrCat(name, "=\"", value, "\"");
}

}  // namespace

absl::StatusOr<MetricsSnapshot> CollectMetrics(const Migrator& migrator) {
  MetricsSnapshot m;
  absl::StatusOr<DatabaseState> state = migrator.Inspect();
  if (!state.ok()) {
    if (!absl::IsFailedPrecondition(state.status())) return state.status();
    m.health = Health::kRefused;  // Bookkeeping it cannot even read.
    return m;
  }
  m.schema_version = state->current_version;
  m.target_version = state->target_version;
  m.pending_steps = state->pending.size();
  m.health = AssessHealth(*state).health;
  if (state->in_flight) {
    const InFlight& f = *state->in_flight;
    m.run_in_progress = true;
    m.step_from = f.from;
    m.step_to = f.to;
    m.step_records_done = f.state == StepState::kMigrating
                              ? f.items_migrated + f.items_skipped
                              : f.items_restored + f.items_kept;
    m.step_records_estimate = f.items_total_estimate;
    m.records_per_second = static_cast<double>(f.records_per_second);
    m.records_migrated_total += f.items_migrated;
    m.records_skipped_total += f.items_skipped;
  }
  // Untrusted bookkeeping: the history may not be readable; the gauges
  // above and health say enough.
  if (state->bookkeeping_status.ok()) {
    RM_RETURN_IF_ERROR(migrator.ForEachHistoryEntry([&m](const HistoryEntry& e) {
      ++m.steps_total[ToString(e.status)];
      m.records_migrated_total += e.items_migrated;
      m.records_skipped_total += e.items_skipped;
      if (e.status == StepStatus::kFailed) ++m.records_failed_total;
      if (IsSuccess(e.status)) {
        if (std::optional<absl::Time> t = ParseIsoTime(e.started_at)) {
          const absl::Time end = *t + absl::Milliseconds(e.duration_ms);
          if (!m.last_success || end > *m.last_success) m.last_success = end;
        }
      }
      return true;
    }));
    RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups,
                        migrator.ListBackups());
    m.backups = backups.size();
    for (const BackupInfo& b : backups) m.backup_bytes += b.approximate_bytes;
  }
  return m;
}

void RunCounters::Observe(const Progress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (has_current_ && (current_.phase != p.phase ||
                       current_.step_from != p.step_from ||
                       current_.step_to != p.step_to ||
                       p.batches < current_.batches)) {
    batches_done_ += current_.batches;
    bytes_done_ += current_.bytes_written;
  }
  current_ = p;
  has_current_ = true;
}

void RunCounters::AddTo(MetricsSnapshot* snapshot) const {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot->batches_committed_total +=
      batches_done_ + (has_current_ ? current_.batches : 0);
  snapshot->bytes_written_total +=
      bytes_done_ + (has_current_ ? current_.bytes_written : 0);
}

std::string ToPrometheusText(const MetricsSnapshot& m) {
  Exposition e;
  e.Metric("rocksmigrate_schema_version", MetricType::kGauge,
           "The schema version stored in the database (the baseline when none "
           "is stored).",
           m.schema_version);
  e.Metric("rocksmigrate_target_schema_version", MetricType::kGauge,
           "The newest schema version this binary's migrations reach.",
           m.target_version);
  e.Metric("rocksmigrate_pending_steps", MetricType::kGauge,
           "Migration steps from the stored version to the target.",
           m.pending_steps);
  e.Family("rocksmigrate_health", MetricType::kGauge,
           "1 for the database's health state (ready, pending, running, "
           "failed, refused), 0 for the others.");
  for (Health h : {Health::kReady, Health::kPending, Health::kRunning,
                   Health::kFailed, Health::kRefused}) {
    e.Sample("rocksmigrate_health", m.health == h ? 1 : 0,
             Label("state", ToString(h)));
  }
  e.Metric("rocksmigrate_run_in_progress", MetricType::kGauge,
           "1 while a migration run is in flight (running, or left by a "
           "crash), else 0.",
           m.run_in_progress ? 1 : 0);
  e.Metric("rocksmigrate_run_step_from_version", MetricType::kGauge,
           "The version the step in flight migrates from (0 when none).",
           m.step_from);
  e.Metric("rocksmigrate_run_step_to_version", MetricType::kGauge,
           "The version the step in flight migrates to (0 when none).",
           m.step_to);
  e.Metric("rocksmigrate_run_step_records", MetricType::kGauge,
           "Records the step in flight has visited so far.",
           static_cast<double>(m.step_records_done));
  e.Metric("rocksmigrate_run_step_records_estimate", MetricType::kGauge,
           "Estimated records of the step in flight (0 when unknown).",
           static_cast<double>(m.step_records_estimate));
  e.Metric("rocksmigrate_run_progress_ratio", MetricType::kGauge,
           "Share of the step in flight done, from 0 to 1 (0 when unknown).",
           m.step_records_estimate > 0
               ? std::min(1.0, static_cast<double>(m.step_records_done) /
                                   static_cast<double>(m.step_records_estimate))
               : 0.0);
  e.Metric("rocksmigrate_run_records_per_second", MetricType::kGauge,
           "The step in flight's rate at its last committed batch.",
           m.records_per_second);
  e.Metric("rocksmigrate_records_migrated_total", MetricType::kCounter,
           "Records rewritten or deleted by migration steps, over the whole "
           "history and the run in flight.",
           static_cast<double>(m.records_migrated_total));
  e.Metric("rocksmigrate_records_skipped_total", MetricType::kCounter,
           "Records migration steps left as they were (already at or past "
           "their version).",
           static_cast<double>(m.records_skipped_total));
  e.Metric("rocksmigrate_records_failed_total", MetricType::kCounter,
           "Records a migration failed on (each failed step stops at its "
           "first).",
           static_cast<double>(m.records_failed_total));
  e.Family("rocksmigrate_steps_total", MetricType::kCounter,
           "Steps recorded in the history, by how they ended.");
  for (StepStatus s : {StepStatus::kSuccess, StepStatus::kFailed,
                       StepStatus::kRolledBack, StepStatus::kInterrupted,
                       StepStatus::kAborted, StepStatus::kStamped}) {
    auto it = m.steps_total.find(ToString(s));
    e.Sample("rocksmigrate_steps_total",
             it == m.steps_total.end() ? 0 : static_cast<double>(it->second),
             Label("status", ToString(s)));
  }
  if (m.last_success) {
    e.Metric("rocksmigrate_last_success_timestamp_seconds", MetricType::kGauge,
             "When the newest successful step ended, in seconds since the "
             "Unix epoch.",
             static_cast<double>(absl::ToUnixMillis(*m.last_success)) / 1000.0);
  }
  e.Metric("rocksmigrate_backups", MetricType::kGauge,
           "Backups kept in the database.", static_cast<double>(m.backups));
  e.Metric("rocksmigrate_backup_bytes", MetricType::kGauge,
           "Estimated bytes the backups take (RocksDB size estimates).",
           static_cast<double>(m.backup_bytes));
  e.Metric("rocksmigrate_batches_committed_total", MetricType::kCounter,
           "Batches this process committed while migrating or restoring.",
           static_cast<double>(m.batches_committed_total));
  e.Metric("rocksmigrate_written_bytes_total", MetricType::kCounter,
           "Bytes of keys and values this process's batches wrote.",
           static_cast<double>(m.bytes_written_total));
  return e.Release();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  auto fail = [&](const char* what) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(
        "cannot write the metrics file ", path, " (", what, " ", tmp, ": ",
        std::strerror(err), "); check that its directory exists and is "
        "writable"));
  };
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("creating");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return fail("writing");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    close(fd);
    return fail("syncing");
  }
  if (close(fd) != 0) return fail("closing");
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("renaming");
  return absl::OkStatus();
}

}  // namespace rocksmigrate
