// `rocksmigrate-bench --online`: a server's read tail and throughput while
// the Task v1 -> v2 step runs online in the background (README
// "Zero-downtime migration"), against the same server with no backfill,
// measured in the same process on the same database.
//
// Phases, on one copy of the dataset opened as a TransactionDB:
//   idle        the foreground load alone (reads through an UpgradingReader,
//               which upgrades v1 records in memory, and a few writes);
//   during      MigrateOnStartup() with a foreground budget of 0 and the
//               default pacing, the same load beside it, for a fixed window;
//   unthrottled the pacer's rate set to 0 (no limit) while the run goes on,
//               the same load, until the backfill is done.
// The bench's own checker then counts lost updates (a record the load wrote
// that does not hold its last write) and stale reads (a read that returned
// a record not at v2, or an untouched record whose bytes are not the
// migration's output, computed without the engine).
#ifndef ROCKSMIGRATE_BENCHMARKS_ONLINE_BENCH_H_
#define ROCKSMIGRATE_BENCHMARKS_ONLINE_BENCH_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace rocksmigrate_bench {

struct OnlineBenchConfig {
  uint64_t records = 0;
  uint64_t seed = 42;
  int threads = 0;             // MigratorOptions::threads.
  // The Task v1 -> v2 migration as the JSON Patch file instead of the C++
  // JsonMigration.
  bool json_file = false;
  double idle_seconds = 8;     // Length of the idle phase.
  double during_seconds = 20;  // Length of the default-pacing window.
  // Passed to the Pacer (0: the library's default PacingOptions values).
  uint64_t max_pending_compaction_bytes = 0;
  // Copies the closed template database at `from` to a new one at `to`.
  std::function<absl::Status(const std::string& from, const std::string& to)>
      clone;
};

// Runs the phases on a copy of `template_path` made under `tmp`; fills
// `out` with the `online` fields (README "Zero-downtime migration") and
// prints a table on stderr. Returns 0, or 1 when a phase failed or the
// checker found a lost update or a stale read.
int RunOnlineBench(const OnlineBenchConfig& cfg, const std::string& tmp,
                   const std::string& template_path, nlohmann::json* out);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_ONLINE_BENCH_H_
