#include "benchmarks/bench_cases.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "benchmarks/bench_dataset.h"
#include "benchmarks/bench_machine.h"
#include "examples/task_v1_to_v2.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/history.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "rocksmigrate/report.h"
#include "rocksmigrate/utilities/db_handle.h"
#include "src/keys.h"
#include "tools/sample/sample_data.h"

namespace rocksmigrate_bench {

namespace fs = std::filesystem;
using rocksmigrate_sample::ExpectedTaskV2;
using rocksmigrate_sample::IsTask;
using rocksmigrate_sample::RecordKey;

namespace {

constexpr char kNaiveBackupId[] = "_backup_naive";

// (b) The copy limit: what the engine's write path costs with no JSON work.
// Rewrites every task record with its own bytes.
class IdentityMigration : public rocksmigrate::Migration {
 public:
  int from() const override { return 1; }
  int to() const override { return 2; }
  std::string name() const override { return "identity"; }
  std::string prefix() const override { return rocksmigrate_sample::kTaskPrefix; }
  absl::StatusOr<rocksmigrate::ItemResult> Migrate(
      std::string_view, std::string_view value) const override {
    return rocksmigrate::ItemResult::Write(std::string(value));
  }
};

absl::Status FillRegistry(MigrationKind kind, const std::string& tmp,
                          rocksmigrate::MigrationRegistry* registry) {
  if (kind == MigrationKind::kCpp) {
    return registry->Register(std::make_unique<example::TaskV1ToV2>());
  }
  if (kind == MigrationKind::kIdentity) {
    return registry->Register(std::make_unique<IdentityMigration>());
  }
  const std::string dir = tmp + "/migrations";
  fs::create_directories(dir);
  std::ofstream(dir + "/" + rocksmigrate_sample::kDeclarativeFileName)
      << rocksmigrate_sample::kDeclarativeFile;
  return rocksmigrate::RegisterMigrationDir(dir, registry);
}

rocksmigrate::MigratorOptions MigratorOpts(const Config& cfg) {
  rocksmigrate::MigratorOptions options;  // Defaults: backups on, 1000/4 MiB.
  options.threads = cfg.threads;
  return options;
}

}  // namespace

CaseResult RunNaive(const Config& cfg, const std::string& path,
                    const DataStats& data) {
  CaseResult r;
  r.id = "naive";
  r.label = "(a) naive: 1 txn/record";
  const uint64_t cap = cfg.baseline_records == 0
                           ? data.tasks
                           : std::min(cfg.baseline_records, data.tasks);
  ResetPeakRss();
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      DbOptions(), rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    Finish(&r, "open: " + s.ToString(), 0);
    return r;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);
  const std::string upper = *rocksmigrate::PrefixSuccessor(rocksmigrate_sample::kTaskPrefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::string problem;
  std::string last_key;
  MemorySampler sampler(db.get());
  const double cpu_start = CpuSeconds();
  const double start = Now();
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    std::unique_ptr<rocksdb::Transaction> txn;
    std::string value;
    for (it->Seek(rocksmigrate_sample::kTaskPrefix); it->Valid() && r.records < cap;
         it->Next()) {
      // Per-record synced commits are slow; a time budget keeps big runs
      // sane. The rate of the records done is what the ratios use.
      if (cfg.baseline_seconds > 0 && r.records % 64 == 0 &&
          Now() - start > cfg.baseline_seconds) {
        break;
      }
      const std::string key = it->key().ToString();
      txn.reset(db->BeginTransaction(wo, rocksdb::TransactionOptions(), txn.release()));
      s = txn->GetForUpdate(rocksdb::ReadOptions(), key, &value);
      if (s.ok()) {
        const std::string migrated = rocksmigrate_sample::NaiveTransform(value);
        if (migrated.empty()) {
          problem = key + " is not a JSON object";
          break;
        }
        s = txn->Put(rocksmigrate::BackupRecordKey(kNaiveBackupId, key), value);
        if (s.ok()) s = txn->Put(key, migrated);
        if (s.ok()) s = txn->Commit();
      }
      if (!s.ok()) {
        problem = absl::StrCat(key, ": ", s.ToString());
        break;
      }
      ++r.records;
      r.bytes += key.size() + value.size();
      last_key = key;
    }
    if (problem.empty() && !it->status().ok()) problem = it->status().ToString();
  }
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler.Stop();
  r.memory = sampler.at_peak();
  r.peak_rss_kib = PeakRssKib();
  if (r.records < data.tasks) {
    r.note = absl::StrFormat(
        "naive baseline timed on the first %s of %s task records (limits: "
        "--baseline-records %s, --baseline-seconds %g); the ratios use its "
        "rate",
        Commas(r.records), Commas(data.tasks), Commas(cap), cfg.baseline_seconds);
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    // Task records up to last_key are migrated, the others untouched.
    auto expect = [&last_key](uint64_t index, const std::string& original) {
      return IsTask(index) && RecordKey(index) <= last_key
                 ? ExpectedTaskV2(original)
                 : original;
    };
    problem = CheckSample(cfg, db.get(), expect, std::nullopt, nullptr, "", &checked);
  }
  Finish(&r, problem, checked);
  return r;
}

std::vector<CaseResult> RunMigrate(const Config& cfg, const std::string& tmp,
                                   const std::string& path,
                                   const DataStats& data, MigrationKind kind,
                                   bool backup_cf, bool rollback) {
  CaseResult r;
  if (backup_cf) {
    r.id = "default_backup_cf";
    r.label = "(c) default, backup CF";
  } else if (kind == MigrationKind::kIdentity) {
    r.id = "copy_limit";
    r.label = "(b) copy limit: identity";
  } else if (kind == MigrationKind::kCpp) {
    r.id = "default_cpp";
    r.label = "(c) default, C++";
  } else {
    r.id = "default_declarative";
    r.label = "(c) default, JSON Patch";
  }
  CaseResult rb;
  rb.id = "rollback";
  rb.label = "rollback v2 -> v1";
  std::vector<CaseResult> out;
  auto done = [&]() {
    out.push_back(r);
    if (rollback) out.push_back(rb);
    return out;
  };

  rocksmigrate::MigrationRegistry registry;
  absl::Status s = FillRegistry(kind, tmp, &registry);
  if (!s.ok()) {
    Finish(&r, "registry: " + s.ToString(), 0);
    return done();
  }
  ResetPeakRss();
  auto opened = rocksmigrate::DbHandle::Open(
      path, rocksmigrate::OpenMode::kReadWrite, DbOptions(),
      backup_cf ? rocksmigrate::kBackupColumnFamily : "");
  if (!opened.ok()) {
    Finish(&r, "open: " + opened.status().ToString(), 0);
    return done();
  }
  std::unique_ptr<rocksmigrate::DbHandle> handle = std::move(opened).value();
  rocksmigrate::MigratorOptions options = MigratorOpts(cfg);
  if (backup_cf) {
    options.backup_column_family = handle->backup_column_family();
    if (options.backup_column_family == nullptr) {
      Finish(&r, "no rocksmigrate_backups column family after open", 0);
      return done();
    }
  }
  auto created = rocksmigrate::Migrator::Create(handle->db(), &registry, options);
  if (!created.ok()) {
    Finish(&r, "Migrator::Create: " + created.status().ToString(), 0);
    return done();
  }
  std::unique_ptr<rocksmigrate::Migrator> migrator = std::move(created).value();

  auto sampler = std::make_unique<MemorySampler>(handle->db());
  double cpu_start = CpuSeconds();
  double start = Now();
  absl::StatusOr<rocksmigrate::RunReport> report = migrator->Migrate();
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler->Stop();
  r.memory = sampler->at_peak();
  r.peak_rss_kib = PeakRssKib();
  r.records = data.tasks;
  r.bytes = data.task_bytes;
  if (!report.ok()) {
    Finish(&r, "Migrate: " + report.status().ToString(), 0);
    return done();
  }
  std::string problem;
  std::optional<std::string> backup_id;
  if (report->steps.size() != 1) {
    problem = absl::StrCat("the run has ", report->steps.size(), " steps, expected 1");
  } else {
    const rocksmigrate::HistoryEntry& e = report->steps[0];
    backup_id = e.backup_id;
    if (e.status != rocksmigrate::StepStatus::kSuccess ||
        e.items_migrated != data.tasks ||
        e.items_skipped != 0 || !e.backup_id) {
      problem = absl::StrCat("step status '", rocksmigrate::ToString(e.status),
                             "', ", e.items_migrated,
                             " migrated, ", e.items_skipped,
                             " skipped, backup ", e.backup_id.value_or("none"),
                             "; expected success, ", data.tasks,
                             " migrated, 0 skipped, a backup");
    }
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    problem = CheckSample(cfg, handle->db(),
                          kind == MigrationKind::kIdentity ? Original : Migrated,
                          backup_id, options.backup_column_family, "2", &checked);
  }
  Finish(&r, problem, checked);
  if (!rollback) return done();
  if (!r.ok) {
    Finish(&rb, "not run: the migration it undoes failed", 0);
    return done();
  }

  ResetPeakRss();
  sampler = std::make_unique<MemorySampler>(handle->db());
  cpu_start = CpuSeconds();
  start = Now();
  absl::StatusOr<rocksmigrate::RunReport> undo = migrator->Rollback(1);
  rb.seconds = Now() - start;
  rb.cpu_seconds = CpuSeconds() - cpu_start;
  rb.memtables_peak_bytes = sampler->Stop();
  rb.memory = sampler->at_peak();
  rb.peak_rss_kib = PeakRssKib();
  rb.records = data.tasks;  // Every backed-up record is restored.
  rb.bytes = data.task_bytes;
  if (!undo.ok()) {
    Finish(&rb, "Rollback: " + undo.status().ToString(), 0);
    return done();
  }
  problem = CheckSample(cfg, handle->db(), Original, std::nullopt, nullptr, "1", &checked);
  Finish(&rb, problem, checked);
  return done();
}

CaseResult RunDryRun(const Config& cfg, const std::string& path,
                     const DataStats& data) {
  CaseResult r;
  r.id = "dry_run";
  r.label = "dry run (C++)";
  rocksmigrate::MigrationRegistry registry;
  absl::Status s = FillRegistry(MigrationKind::kCpp, "", &registry);
  if (!s.ok()) {
    Finish(&r, "registry: " + s.ToString(), 0);
    return r;
  }
  ResetPeakRss();
  auto opened = rocksmigrate::DbHandle::Open(path, rocksmigrate::OpenMode::kReadWrite,
                                             DbOptions());
  if (!opened.ok()) {
    Finish(&r, "open: " + opened.status().ToString(), 0);
    return r;
  }
  std::unique_ptr<rocksmigrate::DbHandle> handle = std::move(opened).value();
  auto created = rocksmigrate::Migrator::Create(handle->db(), &registry, MigratorOpts(cfg));
  if (!created.ok()) {
    Finish(&r, "Migrator::Create: " + created.status().ToString(), 0);
    return r;
  }
  MemorySampler sampler(handle->db());
  const double cpu_start = CpuSeconds();
  const double start = Now();
  absl::StatusOr<rocksmigrate::DryRunReport> report = (*created)->DryRun();
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler.Stop();
  r.memory = sampler.at_peak();
  r.peak_rss_kib = PeakRssKib();
  if (!report.ok()) {
    Finish(&r, "DryRun: " + report.status().ToString(), 0);
    return r;
  }
  r.records = report->records_scanned;
  r.bytes = data.task_bytes;
  std::string problem;
  if (report->records_scanned != data.tasks || report->steps.size() != 1 ||
      report->steps[0].items_to_migrate != data.tasks ||
      report->steps[0].items_failed != 0) {
    problem = absl::StrCat(
        "scanned ", report->records_scanned, ", ",
        report->steps.empty() ? 0 : report->steps[0].items_to_migrate,
        " to migrate, ", report->steps.empty() ? 0 : report->steps[0].items_failed,
        " failed; expected ", data.tasks, ", ", data.tasks, ", 0");
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    // A dry run writes nothing.
    problem = CheckSample(cfg, handle->db(), Original, std::nullopt, nullptr, "-", &checked);
  }
  Finish(&r, problem, checked);
  if (r.ok) {
    r.note = absl::StrFormat("DryRunReport's own estimate of the real run: %.1f s",
                             absl::ToDoubleSeconds(report->estimated_duration));
  }
  return r;
}

}  // namespace rocksmigrate_bench
