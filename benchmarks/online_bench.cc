#include "benchmarks/online_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/sample/sample_data.h"
#include "examples/task_v1_to_v2.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/startup.h"
#include "rocksmigrate/upgrading_reader.h"

namespace rocksmigrate_bench {

using namespace ::rocksmigrate_sample;  // The shared sample data.
namespace {

using Clock = std::chrono::steady_clock;

void Say(const std::string& line) {
  std::cerr << "[bench] " << line << std::endl;
}

// The latency percentile `q` (0..1) of `samples_ns`, in microseconds.
double PercentileUs(std::vector<uint32_t> samples_ns, double q) {
  if (samples_ns.empty()) return 0;
  const size_t k = std::min(samples_ns.size() - 1,
                            static_cast<size_t>(q * samples_ns.size()));
  std::nth_element(samples_ns.begin(), samples_ns.begin() + k, samples_ns.end());
  return samples_ns[k] / 1000.0;
}

// The foreground load of a light server: one thread of random point reads
// through the UpgradingReader (a pause of 50 us between reads), one thread
// of writes of v2 records to every 1000th task, 500 a second.
class Load {
 public:
  Load(rocksdb::TransactionDB* db, const rocksmigrate::UpgradingReader* reader,
       uint64_t records, uint64_t seed)
      : db_(db), reader_(reader), records_(records), seed_(seed) {}

  void Start() {
    stop_ = false;
    threads_.emplace_back([this] { Reads(); });
    threads_.emplace_back([this] { Writes(); });
  }
  // Stops the load; returns the read latencies since Start(), and the
  // operations done.
  std::vector<uint32_t> Stop(uint64_t* ops) {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    std::lock_guard<std::mutex> l(mu_);
    *ops = ops_.exchange(0);
    return std::move(latencies_);
  }
  // Records the load wrote whose bytes differ from its last write.
  uint64_t LostUpdates() const {
    uint64_t lost = 0;
    for (const auto& [key, value] : written_) {
      std::string now;
      if (!db_->Get(rocksdb::ReadOptions(), key, &now).ok() || now != value) ++lost;
    }
    return lost;
  }
  uint64_t stale_reads() const { return stale_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::string first_problem() const {
    std::lock_guard<std::mutex> l(mu_);
    return problem_;
  }

 private:
  static bool Written(uint64_t index) { return index % 1000 == 0; }

  void Problem(std::atomic<uint64_t>* counter, std::string what) {
    if ((*counter)++ == 0) {
      std::lock_guard<std::mutex> l(mu_);
      problem_ = std::move(what);
    }
  }

  void Reads() {
    std::mt19937_64 rng(seed_ + 1);
    std::vector<uint32_t> local;
    local.reserve(1 << 20);
    while (!stop_) {
      uint64_t index = rng() % records_;
      if (!IsTask(index)) index -= 1;  // Tasks only: the migrating prefix.
      const std::string key = RecordKey(index);
      const auto t0 = Clock::now();
      absl::StatusOr<std::string> v = reader_->Get(key);
      const auto t1 = Clock::now();
      local.push_back(static_cast<uint32_t>(std::min<int64_t>(
          UINT32_MAX,
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count())));
      ++ops_;
      if (!v.ok()) {
        Problem(&errors_, absl::StrCat(key, ": ", v.status().ToString()));
      } else if (Written(index)) {
        if (v->find("\"schema_version\":2") == std::string::npos) {
          Problem(&stale_, absl::StrCat(key, " read as ", *v));
        }
      } else if (*v != ExpectedTaskV2(RecordValue(seed_, index))) {
        Problem(&stale_, absl::StrCat(key, " read as ", *v));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    std::lock_guard<std::mutex> l(mu_);
    latencies_.insert(latencies_.end(), local.begin(), local.end());
  }

  void Writes() {
    std::mt19937_64 rng(seed_ + 2);
    while (!stop_) {
      const uint64_t index = (rng() % (records_ / 1000 + 1)) * 1000;
      if (index >= records_ || !IsTask(index)) continue;
      const std::string key = RecordKey(index);
      const std::string value = absl::StrCat(
          R"({"id":)", index, R"(,"title":"edited )", ++writes_,
          R"(","depends_on":[],"related_tasks":[],"schema_version":2})");
      rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), key, value);
      ++ops_;
      if (!s.ok()) {
        Problem(&errors_, absl::StrCat("writing ", key, ": ", s.ToString()));
      } else {
        written_[key] = value;  // Only this thread touches it while running.
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  rocksdb::TransactionDB* db_;
  const rocksmigrate::UpgradingReader* reader_;
  const uint64_t records_;
  const uint64_t seed_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ops_{0}, stale_{0}, errors_{0};
  uint64_t writes_ = 0;
  std::map<std::string, std::string> written_;
  mutable std::mutex mu_;
  std::vector<uint32_t> latencies_;  // Guarded by mu_ once joined.
  std::string problem_;
};

// Samples what holds the backfill (MigrationSnapshot::pacing) every 50 ms,
// apart from the rate limit itself; Stop() says how often each reason held
// it ("none" when nothing did).
class HoldSampler {
 public:
  explicit HoldSampler(rocksmigrate::MigrationHandle* h)
      : thread_([this, h] {
          while (!stop_) {
            std::string why = h->snapshot().pacing;
            if (why.rfind("rate limit", 0) == 0) why.clear();
            {
              std::lock_guard<std::mutex> l(mu_);
              ++samples_;
              if (!why.empty()) {
                // "throttled: pending compaction 300 MiB" counts as
                // "throttled: pending compaction".
                why = why.substr(0, why.find(" ("));
                why = why.substr(0, why.find_first_of("0123456789"));
                while (!why.empty() && why.back() == ' ') why.pop_back();
                ++reasons_[why];
              }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }) {}
  std::string Stop() {
    stop_ = true;
    thread_.join();
    std::lock_guard<std::mutex> l(mu_);
    if (reasons_.empty()) return "none";
    std::string out;
    for (const auto& [why, n] : reasons_) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", why, " ",
                      absl::StrFormat("%.0f%%", 100.0 * n / std::max<uint64_t>(1, samples_)));
    }
    return out;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  uint64_t samples_ = 0;
  std::map<std::string, uint64_t> reasons_;
  std::thread thread_;
};

struct PhaseFigures {
  double seconds = 0;
  uint64_t ops = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  uint64_t migrated = 0;  // Records the backfill visited in the phase.
};

PhaseFigures Measure(Load& load, double seconds, absl::Time start,
                     const std::vector<uint32_t>& lat, uint64_t ops) {
  PhaseFigures f;
  f.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (seconds > 0) f.seconds = std::max(f.seconds, 1e-9);
  f.ops = ops;
  f.p50 = PercentileUs(lat, 0.50);
  f.p99 = PercentileUs(lat, 0.99);
  f.p999 = PercentileUs(lat, 0.999);
  return f;
}

}  // namespace

int RunOnlineBench(const OnlineBenchConfig& cfg, const std::string& tmp,
                   const std::string& template_path, nlohmann::json* out) {
  const std::string path = tmp + "/online";
  absl::Status cloned = cfg.clone(template_path, path);
  if (!cloned.ok()) {
    std::cerr << "error: copying the template: " << cloned << "\n";
    return 1;
  }
  rocksdb::Options options;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      options, rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    std::cerr << "error: opening " << path << ": " << s.ToString() << "\n";
    return 1;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);
  rocksmigrate::MigrationRegistry registry;
  if (cfg.json_file) {
    const std::string dir = tmp + "/online-migrations";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + kDeclarativeFileName) << kDeclarativeFile;
    absl::Status r = rocksmigrate::RegisterMigrationDir(dir, &registry);
    if (!r.ok()) {
      std::cerr << "error: " << r << "\n";
      return 1;
    }
  } else if (!registry.Register(std::make_unique<example::TaskV1ToV2>()).ok()) {
    return 1;
  }
  auto reader = rocksmigrate::UpgradingReader::Create(db.get(), &registry);
  if (!reader.ok()) {
    std::cerr << "error: " << reader.status() << "\n";
    return 1;
  }

  Load load(db.get(), reader->get(), cfg.records, cfg.seed);
  uint64_t ops = 0;
  // Warm-up (not measured): the block cache and the page cache hold what
  // the load reads, as in a server that has been running.
  Say("online: warm-up load for 3 s");
  load.Start();
  absl::SleepFor(absl::Seconds(3));
  load.Stop(&ops);
  // Idle: the server with nothing migrating (reads still upgrade v1
  // records in memory, as they do during the backfill).
  Say(absl::StrFormat("online: idle load for %.0f s", cfg.idle_seconds));
  absl::Time t0 = absl::Now();
  load.Start();
  absl::SleepFor(absl::Seconds(cfg.idle_seconds));
  std::vector<uint32_t> lat = load.Stop(&ops);
  const PhaseFigures idle = Measure(load, cfg.idle_seconds, t0, lat, ops);

  // During: the backfill at the default pacing.
  rocksmigrate::MigratorOptions mopt;
  mopt.threads = cfg.threads;
  rocksmigrate::StartupOptions startup;
  startup.foreground_budget = absl::ZeroDuration();
  startup.when_budget_runs_out =
      rocksmigrate::StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
  if (cfg.max_pending_compaction_bytes > 0) {
    startup.pacing.max_pending_compaction_bytes = cfg.max_pending_compaction_bytes;
  }
  const uint64_t default_rate = startup.pacing.records_per_second;
  Say(absl::StrFormat("online: backfill at the default pacing (%d records/s) "
                      "for %.0f s beside the same load",
                      default_rate, cfg.during_seconds));
  load.Start();
  const absl::Time call = absl::Now();
  auto handle = rocksmigrate::MigrateOnStartup(db.get(), registry, mopt, startup);
  const double startup_ms = absl::ToDoubleMilliseconds(absl::Now() - call);
  if (!handle.ok()) {
    load.Stop(&ops);
    std::cerr << "error: " << handle.status() << "\n";
    return 1;
  }
  t0 = absl::Now();
  HoldSampler held_during(handle->get());
  (*handle)->WaitFor(absl::Seconds(cfg.during_seconds));
  const std::string during_held = held_during.Stop();
  lat = load.Stop(&ops);
  PhaseFigures during = Measure(load, cfg.during_seconds, t0, lat, ops);
  during.migrated = (*handle)->snapshot().items_done;

  // Unthrottled: the rest, with no rate limit (changed while running).
  Say("online: the rest unthrottled beside the same load");
  load.Start();
  t0 = absl::Now();
  const uint64_t before = (*handle)->snapshot().items_done;
  (*handle)->pacer().SetRecordsPerSecond(0);
  HoldSampler held_unthrottled(handle->get());
  absl::Status final = (*handle)->Wait();
  const std::string unthrottled_held = held_unthrottled.Stop();
  const rocksmigrate::MigrationSnapshot end = (*handle)->snapshot();
  lat = load.Stop(&ops);
  PhaseFigures unthrottled = Measure(load, 0, t0, lat, ops);
  unthrottled.migrated = end.items_done - std::min(end.items_done, before);
  if (!final.ok()) {
    std::cerr << "error: the backfill failed: " << final << "\n";
    return 1;
  }
  // After the end: the reader skips the migrations; a last look at the
  // load, then the checks.
  load.Start();
  absl::SleepFor(absl::Seconds(1));
  load.Stop(&ops);
  const uint64_t lost = load.LostUpdates();
  const uint64_t stale = load.stale_reads();
  const uint64_t errors = load.errors();

  auto rate = [](const PhaseFigures& f) {
    return f.seconds > 0 ? f.migrated / f.seconds : 0.0;
  };
  nlohmann::json j;
  j["records"] = cfg.records;
  j["migration"] = cfg.json_file ? "json_patch_file" : "cpp_json_migration";
  j["default_records_per_second_limit"] = default_rate;
  j["startup_call_ms"] = startup_ms;
  j["read_p50_us_idle"] = idle.p50;
  j["read_p99_us_idle"] = idle.p99;
  j["read_p999_us_idle"] = idle.p999;
  j["read_p50_us_during"] = during.p50;
  j["read_p99_us_during"] = during.p99;
  j["read_p999_us_during"] = during.p999;
  j["read_p99_us_unthrottled"] = unthrottled.p99;
  j["read_p999_us_unthrottled"] = unthrottled.p999;
  j["backfill_records_per_second"] = rate(during);
  j["backfill_records_per_second_unthrottled"] = rate(unthrottled);
  j["foreground_ops_per_second_idle"] = idle.ops / idle.seconds;
  j["foreground_ops_per_second"] = during.ops / during.seconds;
  j["foreground_ops_per_second_unthrottled"] =
      unthrottled.seconds > 0 ? unthrottled.ops / unthrottled.seconds : 0;
  j["lost_updates"] = lost;
  j["stale_reads"] = stale;
  j["read_errors"] = errors;
  j["held_during"] = during_held;
  j["held_unthrottled"] = unthrottled_held;
  j["p99_ratio"] = idle.p99 > 0 ? during.p99 / idle.p99 : 0;
  j["p999_ratio"] = idle.p999 > 0 ? during.p999 / idle.p999 : 0;
  *out = j;

  std::cerr << absl::StrFormat(
      "\nonline backfill, %d records (Task v1 -> v2, %s)\n"
      "  %-26s %10s %10s %10s %14s %12s\n"
      "  %-26s %10.1f %10.1f %10.1f %14s %12.0f\n"
      "  %-26s %10.1f %10.1f %10.1f %14.0f %12.0f\n"
      "  %-26s %10.1f %10.1f %10.1f %14.0f %12.0f\n"
      "  read tail during / idle: p99 %.2fx (bar <= 1.5x), p99.9 %.2fx (bar <= 3x)\n"
      "  MigrateOnStartup returned in %.1f ms; lost updates %d, stale reads %d, "
      "read errors %d\n"
      "  held (share of samples every 50 ms): default pacing: %s; unthrottled: %s\n",
      cfg.records, cfg.json_file ? "JSON Patch file" : "C++ JsonMigration",
      "phase", "p50 us", "p99 us", "p99.9 us", "backfill rec/s",
      "fg ops/s", "idle (no backfill)", idle.p50, idle.p99, idle.p999, "-",
      idle.ops / idle.seconds,
      absl::StrCat("default pacing (", default_rate, "/s)"), during.p50,
      during.p99, during.p999, rate(during), during.ops / during.seconds,
      "unthrottled", unthrottled.p50, unthrottled.p99, unthrottled.p999,
      rate(unthrottled),
      unthrottled.seconds > 0 ? unthrottled.ops / unthrottled.seconds : 0.0,
      idle.p99 > 0 ? during.p99 / idle.p99 : 0,
      idle.p999 > 0 ? during.p999 / idle.p999 : 0, startup_ms, lost, stale,
      errors, during_held, unthrottled_held);
  if (lost > 0 || stale > 0 || errors > 0) {
    std::cerr << "error: the checker found a problem: " << load.first_problem()
              << "\n";
    return 1;
  }
  return 0;
}

}  // namespace rocksmigrate_bench
