// `metrics [--metrics-file PATH]`: the Prometheus exposition of the
// database's migrations (rocksmigrate/metrics.h) on stdout, or written
// atomically to PATH (for a cron job feeding node_exporter's textfile
// collector); `--json`: the same snapshot as one JSON document. Reads only
// the bookkeeping keys, read-only, beside a live server.
#include "rocksmigrate/metrics.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Outcome> RunMetrics(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  RM_ASSIGN_OR_RETURN(MetricsSnapshot m, CollectMetrics(*opened.migrator));
  if (ctx.inv.json) {
    Json steps = Json::object();
    for (const auto& [status, n] : m.steps_total) steps[status] = n;
    PrintJson(ctx, Json{
        {"database", ctx.inv.db},
        {"schema_version", m.schema_version},
        {"target_version", m.target_version},
        {"pending_steps", m.pending_steps},
        {"health", ToString(m.health)},
        {"run_in_progress", m.run_in_progress},
        {"step_from", m.step_from},
        {"step_to", m.step_to},
        {"step_records", m.step_records_done},
        {"step_records_estimate", m.step_records_estimate},
        {"records_per_second", m.records_per_second},
        {"records_migrated_total", m.records_migrated_total},
        {"records_skipped_total", m.records_skipped_total},
        {"records_failed_total", m.records_failed_total},
        {"steps_total", std::move(steps)},
        {"last_success_timestamp_seconds",
         m.last_success ? Json(absl::ToUnixMillis(*m.last_success) / 1000.0)
                        : Json(nullptr)},
        {"backups", m.backups},
        {"backup_bytes", m.backup_bytes}});
    return Outcome::kDone;
  }
  const std::string text = ToPrometheusText(m);
  const std::string path = FlagOr(ctx, "metrics-file");
  if (path.empty()) {
    ctx.out << text;
    return Outcome::kDone;
  }
  RM_RETURN_IF_ERROR(WriteFileAtomically(path, text));
  ctx.out << "wrote " << path << '\n';
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
