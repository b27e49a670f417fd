// Migrator::DryRun: every pending step simulated in memory, each record
// carried through the chain of steps, nothing written.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/down_of.h"
#include "src/keys.h"
#include "src/metadata.h"
#include "src/migrator_impl.h"
#include "src/progress_meter.h"
#include "src/step_pipeline.h"

namespace rocksmigrate {
namespace {

constexpr size_t kMaxFailures = 10;
// The write rate assumed for the estimate of a real run's write time: a
// conservative figure for synced batches of backups and new values.
constexpr double kAssumedWriteBytesPerSecond = 100.0 * 1024 * 1024;

// Prefixes with every prefix covered by a shorter one removed, so that no
// record is visited twice.
std::vector<std::string> MinimalPrefixes(std::set<std::string> prefixes) {
  std::vector<std::string> out;
  for (const std::string& p : prefixes) {  // Sorted: a prefix comes first.
    if (!out.empty() && p.compare(0, out.back().size(), out.back()) == 0) {
      continue;
    }
    out.push_back(p);
  }
  return out;
}

const Migration* MigrationFor(const Step& step, std::string_view key) {
  for (const Migration* m : step.migrations) {
    const std::string p = m->prefix();
    if (key.substr(0, p.size()) == p) return m;
  }
  return nullptr;
}

}  // namespace

namespace {

// True if `key` was migrated by the step in flight of `cursor` already
// (the step's migrations in prefix order, each prefix in key order).
bool DoneByCursor(const Step& step, const Cursor& cursor, std::string_view key) {
  for (size_t i = 0; i < step.migrations.size(); ++i) {
    const std::string p = step.migrations[i]->prefix();
    if (key.substr(0, p.size()) != p) continue;
    if (i != cursor.prefix_index) return i < cursor.prefix_index;
    return cursor.has_last_key && key <= cursor.info.last_key;
  }
  return false;
}

}  // namespace

namespace {

// Carries every record under `all` through `path` in memory, filling
// report->steps (one per step of `path`, already named), records_scanned,
// elapsed and estimated_duration. `resume`: the cursor of the run in flight
// whose step is path[0].
absl::Status Simulate(rocksdb::DB* db_, const MigratorOptions& options_,
                      const std::vector<Step>& path,
                      const std::optional<Cursor>& resume,
                      const std::set<std::string>& all, DryRunReport* out) {
  DryRunReport& report = *out;
  std::vector<ScanRange> ranges;
  std::vector<KeyRange> key_ranges;
  for (const std::string& p : MinimalPrefixes(all)) {
    for (KeyRange& r : UserRanges(p)) {
      key_ranges.push_back(r);
      ranges.push_back(ScanRange{std::move(r), 0, std::nullopt});
    }
  }

  const absl::Time start = options_.clock();
  ProgressMeter meter(options_, Progress::Phase::kDryRun, path.front().from,
                      path.back().to, EstimateRecords(db_, nullptr, key_ranges),
                      0);
  PipelineOptions popt;
  popt.workers = options_.threads;
  popt.batch_items = options_.batch_items;
  popt.batch_bytes = options_.batch_bytes;

  if (resume) report.steps.front().resumes_in_flight = true;
  auto transform = [&path, &resume](RawBatch& raw, PreparedBatch* out) {
    out->dry_counts.resize(path.size());
    for (RawItem& item : raw.items) {
      std::string value = std::move(item.value);
      for (size_t i = 0; i < path.size(); ++i) {
        const Migration* m = MigrationFor(path[i], item.key);
        if (m == nullptr) continue;
        if (i == 0 && resume && DoneByCursor(path[0], *resume, item.key)) {
          continue;  // Migrated before the run stopped.
        }
        DryRunCounts& counts = out->dry_counts[i];
        absl::StatusOr<ItemResult> r = CallMigration(*m, item.key, value);
        if (!r.ok()) {
          ++counts.failed;
          if (counts.failures.size() < kMaxFailures) {
            counts.failures.push_back(
                ItemFailure{item.key, std::string(r.status().message())});
          }
          break;  // Later steps would see a record that failed here.
        }
        if (r->kind() == ItemResult::Kind::kKeep) {
          ++counts.skipped;
          if (r->newer()) ++counts.ahead;
          continue;
        }
        ++counts.migrate;
        if (r->kind() == ItemResult::Kind::kDelete) {
          ++counts.remove;
          counts.bytes += item.key.size() + value.size();
          break;  // Gone: later steps never see it.
        }
        std::string next = r->release_value();
        counts.bytes += 2 * item.key.size() + value.size() + next.size();
        value = std::move(next);
      }
    }
  };
  uint64_t scanned = 0;
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    scanned += batch.visited;
    for (size_t i = 0; i < batch.dry_counts.size(); ++i) {
      DryRunStep& ds = report.steps[i];
      DryRunCounts& c = batch.dry_counts[i];
      ds.items_to_migrate += c.migrate;
      ds.items_to_delete += c.remove;
      ds.items_skipped += c.skipped;
      ds.items_ahead += c.ahead;
      ds.items_failed += c.failed;
      ds.bytes_to_write += c.bytes;
      for (ItemFailure& f : c.failures) {
        if (ds.first_failures.size() >= kMaxFailures) break;
        ds.first_failures.push_back(std::move(f));
      }
    }
    meter.Report(scanned, "");
    if (options_.stop_requested != nullptr && options_.stop_requested->load()) {
      return absl::CancelledError("dry run interrupted");
    }
    return absl::OkStatus();
  };
  RM_RETURN_IF_ERROR(RunPipeline(db_, ranges, popt, transform, consume));
  report.records_scanned = scanned;
  report.elapsed = options_.clock() - start;
  uint64_t bytes = 0;
  for (const DryRunStep& ds : report.steps) bytes += ds.bytes_to_write;
  report.estimated_duration =
      report.elapsed +
      absl::Seconds(static_cast<double>(bytes) / kAssumedWriteBytesPerSecond);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DryRunReport> Migrator::Impl::DryRun(
    std::optional<int> target) const {
  RM_ASSIGN_OR_RETURN(MigratePlan plan, PreflightMigrate(target));
  DryRunReport report;
  report.from_version = plan.snap.current;
  report.to_version = plan.goal;
  report.in_flight_action = plan.action;
  report.would_stamp = plan.stamp;
  if (plan.action && *plan.action != InFlightAction::kResumeStep) {
    report.to_version = plan.snap.current;
    return report;  // Migrate() would finish the restore and stop.
  }
  std::vector<Step> path;
  std::optional<Cursor> resume;
  if (plan.resume != nullptr) {
    path.push_back(*plan.resume);
    resume = plan.snap.cursor;
  }
  for (const Step& s : plan.steps) path.push_back(s);
  if (path.empty()) return report;

  std::set<std::string> all;
  for (const Step& step : path) {
    DryRunStep ds;
    ds.from = step.from;
    ds.to = step.to;
    for (const Migration* m : step.migrations) {
      ds.migrations.push_back(m->name());
      all.insert(m->prefix());
      RM_ASSIGN_OR_RETURN(bool has, meta_.HasRecordsUnder(m->prefix()));
      if (!has) ds.empty_prefixes.push_back(m->prefix());
    }
    report.steps.push_back(std::move(ds));
  }
  RM_RETURN_IF_ERROR(Simulate(db_, options_, path, resume, all, &report));
  return report;
}

absl::StatusOr<DryRunReport> Migrator::Impl::DryRunRollback(
    int target, RollbackMethod method) const {
  RM_ASSIGN_OR_RETURN(RollbackPlan plan, PreflightRollback(target, method));
  DryRunReport report;
  report.from_version = plan.snap.current;
  report.to_version = target;
  report.in_flight_action = plan.action;
  // The down passes at the top, newest first, are simulated as a chain on
  // the records as they are; below the first backup restore the records
  // would be the backup's, which a dry run does not read.
  std::vector<Step> path;
  std::vector<std::vector<DownOf>> adapters;
  bool chain = !plan.action.has_value();
  std::set<std::string> all;
  for (const Undo& u : plan.undos) {
    if (u.unstamp()) continue;
    DryRunStep ds;
    ds.from = u.entry.to;
    ds.to = u.entry.from;
    ds.migrations = u.entry.migrations;
    ds.undo_by = u.down ? RollbackMethod::kDown : RollbackMethod::kBackup;
    if (!u.down) {
      ds.backup_id = u.backup->id;
      ds.items_to_migrate = u.backup->item_count;
      chain = false;
    } else if (!chain) {
      ds.simulated = false;
    } else {
      const Step* up = registry_->FindStep(u.entry.from);
      adapters.emplace_back();
      for (const Migration* m : up->migrations) {
        adapters.back().emplace_back(*m);
        all.insert(m->prefix());
      }
    }
    report.steps.push_back(std::move(ds));
  }
  for (std::vector<DownOf>& a : adapters) {
    Step step;
    step.from = a.front().from();
    step.to = a.front().to();
    for (const DownOf& d : a) step.migrations.push_back(&d);
    path.push_back(std::move(step));
  }
  if (path.empty()) return report;
  DryRunReport simulated;
  simulated.steps.resize(path.size());
  RM_RETURN_IF_ERROR(
      Simulate(db_, options_, path, std::nullopt, all, &simulated));
  for (size_t i = 0; i < path.size(); ++i) {
    DryRunStep& ds = report.steps[i];  // The chain is the top of the list.
    const DryRunStep& sim = simulated.steps[i];
    ds.items_to_migrate = sim.items_to_migrate;
    ds.items_to_delete = sim.items_to_delete;
    ds.items_skipped = sim.items_skipped;
    ds.items_ahead = sim.items_ahead;
    ds.items_failed = sim.items_failed;
    ds.bytes_to_write = sim.bytes_to_write;
    ds.first_failures = sim.first_failures;
  }
  report.records_scanned = simulated.records_scanned;
  report.elapsed = simulated.elapsed;
  report.estimated_duration = simulated.estimated_duration;
  return report;
}

}  // namespace rocksmigrate
