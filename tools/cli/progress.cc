#include "tools/cli/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {
namespace {

// Log lines when stderr is not a terminal; redraws of the live line on one.
constexpr auto kLogInterval = std::chrono::seconds(5);
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

const char* PhaseName(Progress::Phase phase) {
  switch (phase) {
    case Progress::Phase::kMigrating:
      return "migrating";
    case Progress::Phase::kRollingBack:
      return "restoring";
    case Progress::Phase::kDryRun:
      return "dry run";
  }
  return "";
}

bool SameStep(const Progress& a, const Progress& b) {
  return a.phase == b.phase && a.step_from == b.step_from &&
         a.step_to == b.step_to && a.prefix == b.prefix;
}

}  // namespace

std::string ProgressReporter::Line(const Progress& p) {
  std::string line = absl::StrCat(PhaseName(p.phase), " v", p.step_from,
                                  " -> v", p.step_to);
  if (!p.prefix.empty()) absl::StrAppend(&line, " (", EscapeBytes(p.prefix), ")");
  absl::StrAppend(&line, ": ", FormatCount(p.items_done));
  if (p.items_total_estimate > 0) {
    const uint64_t total = std::max(p.items_total_estimate, p.items_done);
    absl::StrAppend(&line, " / ~", FormatCount(total),
                    absl::StrFormat(" (%d%%)", static_cast<int>(
                                                   100.0 * p.items_done /
                                                   static_cast<double>(total))));
  }
  absl::StrAppend(&line, " records, ",
                  FormatCount(static_cast<uint64_t>(p.items_per_second)),
                  " records/s, ", HumanDuration(p.elapsed), " elapsed");
  if (p.eta_seconds >= 0) {
    absl::StrAppend(&line, ", ETA ",
                    HumanDuration(absl::Seconds(p.eta_seconds)));
  }
  return line;
}

void ProgressReporter::Report(const Progress& progress) {
  if (last_ && !SameStep(*last_, progress)) EndStep();
  last_ = progress;
  last_printed_ = false;
  const auto now = std::chrono::steady_clock::now();
  const bool first = last_log_ == std::chrono::steady_clock::time_point{};
  if (terminal_) {
    if (first || now - last_log_ >= kRedrawInterval) {
      Draw(Line(progress));
      last_log_ = now;
    }
    return;
  }
  if (first || now - last_log_ >= kLogInterval) {
    err_ << Line(progress) << '\n' << std::flush;
    last_log_ = now;
    last_printed_ = true;
  }
}

void ProgressReporter::Draw(const std::string& line) {
  std::string padded = line;
  if (padded.size() < line_width_) {
    padded.append(line_width_ - padded.size(), ' ');
  }
  line_width_ = line.size();
  err_ << '\r' << padded << std::flush;
  last_printed_ = true;
}

void ProgressReporter::EndStep() {
  if (!last_) return;
  if (terminal_) {
    if (!last_printed_) Draw(Line(*last_));
    err_ << '\n' << std::flush;
  } else if (!last_printed_) {
    err_ << Line(*last_) << '\n' << std::flush;
  }
  last_.reset();
  last_printed_ = false;
  line_width_ = 0;
  last_log_ = {};
}

void ProgressReporter::Finish() { EndStep(); }

}  // namespace rocksmigrate::cli
