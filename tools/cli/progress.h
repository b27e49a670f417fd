// Shows the migrator's progress on stderr (SPEC §4): a live `\r` line per
// step on a terminal, otherwise a log line at most every 5 seconds and one at
// the end of each step.
#ifndef ROCKSMIGRATE_TOOLS_CLI_PROGRESS_H_
#define ROCKSMIGRATE_TOOLS_CLI_PROGRESS_H_

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "rocksmigrate/migrator.h"

namespace rocksmigrate::cli {

// Thread-safety: not thread-safe; the migrator calls on_progress from the
// thread that runs it.
class ProgressReporter {
 public:
  ProgressReporter(std::ostream& err, bool terminal)
      : err_(err), terminal_(terminal) {}
  ~ProgressReporter() { Finish(); }

  // The MigratorOptions::on_progress callback.
  void Report(const Progress& progress);
  // Ends the current step's line (or logs its last state). Idempotent.
  void Finish();

 private:
  static std::string Line(const Progress& p);
  void Draw(const std::string& line);  // Redraws the live line.
  void EndStep();

  std::ostream& err_;
  const bool terminal_;
  std::optional<Progress> last_;       // The latest report of this step.
  bool last_printed_ = false;          // Whether `last_` is already shown.
  size_t line_width_ = 0;              // Of the live line, to blank it.
  // Last log line or redraw; zero at the start of a step.
  std::chrono::steady_clock::time_point last_log_{};
};

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_PROGRESS_H_
