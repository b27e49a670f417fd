// `--metrics-file PATH`: the Prometheus textfile a run keeps current for
// node_exporter's textfile collector (rocksmigrate/metrics.h), rewritten
// atomically at the start, at most once a second while batches commit, and
// at the end.
#ifndef ROCKSMIGRATE_TOOLS_CLI_METRICS_FILE_H_
#define ROCKSMIGRATE_TOOLS_CLI_METRICS_FILE_H_

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "rocksmigrate/metrics.h"
#include "rocksmigrate/migrator.h"
#include "tools/cli/command_util.h"

namespace rocksmigrate::cli {

// Thread-safety: not thread-safe; used from the thread that runs the
// migrator (its progress callback runs there).
class MetricsFile {
 public:
  // `path` empty: every method does nothing.
  MetricsFile(std::string path, std::ostream& err)
      : path_(std::move(path)), err_(err) {}

  bool enabled() const { return !path_.empty(); }
  // Reads through a Migrator of its own over `opened`'s database (reads
  // only, beside the run's) and writes the file once. InvalidArgument
  // naming the path when it cannot be written: nothing was migrated yet.
  absl::Status Start(const Opened& opened, const MigrationRegistry* registry);
  // From MigratorOptions::on_progress.
  void OnProgress(const Progress& p);
  // Writes the final state (after the run, whatever its result).
  void Finish();

 private:
  void Write();

  const std::string path_;
  std::ostream& err_;
  std::unique_ptr<Migrator> reader_;
  RunCounters counters_;
  std::chrono::steady_clock::time_point last_write_{};
  bool warned_ = false;
};

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_METRICS_FILE_H_
