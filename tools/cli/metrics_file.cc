#include "tools/cli/metrics_file.h"

#include "absl/strings/str_cat.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::Status MetricsFile::Start(const Opened& opened,
                                const MigrationRegistry* registry) {
  if (!enabled()) return absl::OkStatus();
  MigratorOptions options;
  options.column_families = opened.handle->column_families();
  absl::StatusOr<std::unique_ptr<Migrator>> reader =
      Migrator::Create(opened.handle->db(), registry, options);
  if (!reader.ok()) return reader.status();
  reader_ = std::move(*reader);
  absl::StatusOr<MetricsSnapshot> snap = CollectMetrics(*reader_);
  if (!snap.ok()) return snap.status();
  absl::Status written = WriteFileAtomically(path_, ToPrometheusText(*snap));
  if (!written.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-file: ", written.message(),
                     "; nothing was migrated"));
  }
  last_write_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

void MetricsFile::OnProgress(const Progress& p) {
  if (reader_ == nullptr) return;
  counters_.Observe(p);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_write_ < std::chrono::seconds(1)) return;
  last_write_ = now;
  Write();
}

void MetricsFile::Finish() {
  if (reader_ == nullptr) return;
  Write();
}

void MetricsFile::Write() {
  absl::StatusOr<MetricsSnapshot> snap = CollectMetrics(*reader_);
  absl::Status s = snap.status();
  if (snap.ok()) {
    counters_.AddTo(&*snap);
    s = WriteFileAtomically(path_, ToPrometheusText(*snap));
  }
  if (!s.ok() && !warned_) {
    warned_ = true;  // Once: the run goes on, its own output says the rest.
    err_ << "warning: the metrics file is not being updated: "
         << EscapeText(s.message()) << '\n';
  }
}

}  // namespace rocksmigrate::cli
