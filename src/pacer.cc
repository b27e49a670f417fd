#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/pacing.h"

namespace rocksmigrate {
namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool Stopped(const std::atomic<bool>* stop) {
  return stop != nullptr && stop->load();
}

}  // namespace

Pacer::Pacer(PacingOptions options)
    : options_(std::move(options)),
      records_per_second_(options_.records_per_second),
      bytes_per_second_(options_.bytes_per_second),
      next_allowed_(absl::InfinitePast()) {
  if (options_.poll_interval <= absl::ZeroDuration()) {
    options_.poll_interval = absl::Milliseconds(100);
  }
}

void Pacer::SetRecordsPerSecond(uint64_t n) { records_per_second_.store(n); }
void Pacer::SetBytesPerSecond(uint64_t n) { bytes_per_second_.store(n); }

std::string Pacer::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void Pacer::SetState(std::string state) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = std::move(state);
}

std::string Pacer::HoldReason(rocksdb::DB* db) const {
  if (paused_.load()) return "paused (Pause() was called)";
  if (!options_.pause_file.empty() && FileExists(options_.pause_file)) {
    return absl::StrCat("paused (flag file ", options_.pause_file, ")");
  }
  if (options_.busy && options_.busy()) return "paused (server busy)";
  if (options_.backoff_on_write_stall && db != nullptr) {
    uint64_t v = 0;
    if (db->GetIntProperty("rocksdb.is-write-stopped", &v) && v != 0) {
      return "throttled: write stall (writes stopped)";
    }
    if (db->GetIntProperty("rocksdb.actual-delayed-write-rate", &v) &&
        v != 0) {
      return "throttled: write stall (writes delayed)";
    }
    if (options_.max_pending_compaction_bytes > 0 &&
        db->GetIntProperty("rocksdb.estimate-pending-compaction-bytes", &v) &&
        v > options_.max_pending_compaction_bytes) {
      return absl::StrCat("throttled: pending compaction ", v >> 20, " MiB");
    }
  }
  return {};
}

absl::Status Pacer::Admit(
    rocksdb::DB* db, uint64_t records, uint64_t bytes,
    const std::atomic<bool>* stop,
    const std::function<void(const std::string&)>& on_state) {
  const absl::Status kStopped = absl::CancelledError("stop requested");
  if (bypass_.load()) {
    SetState("");
    return absl::OkStatus();
  }
  // 1. Wait while something holds the run.
  std::string reported;
  for (;;) {
    if (Stopped(stop)) return kStopped;
    if (bypass_.load()) break;
    std::string why = HoldReason(db);
    if (why.empty()) break;
    if (why != reported) {
      reported = why;
      SetState(why);
      if (on_state) on_state(why);
    }
    absl::SleepFor(options_.poll_interval);
  }
  if (!reported.empty()) {
    SetState("");
    if (on_state) on_state("");
    std::lock_guard<std::mutex> lock(mu_);
    next_allowed_ = absl::InfinitePast();  // No catching up after a pause.
  }
  // 2. The rate limits: a token bucket without burst. The batch may go at
  // `start`; the next one `cost` later.
  const uint64_t rps = records_per_second_.load();
  const uint64_t bps = bytes_per_second_.load();
  absl::Duration cost;
  if (rps > 0) cost = std::max(cost, absl::Seconds(double(records) / rps));
  if (bps > 0) cost = std::max(cost, absl::Seconds(double(bytes) / bps));
  absl::Time start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = absl::Now();
    start = std::max(now, next_allowed_);
    next_allowed_ = start + cost;
    if (rps > 0 || bps > 0) {
      state_ = rps > 0 ? absl::StrCat("rate limit ", rps, " records/s")
                       : absl::StrCat("rate limit ", bps, " bytes/s");
    } else {
      state_.clear();
    }
  }
  for (absl::Time now = absl::Now(); now < start; now = absl::Now()) {
    if (Stopped(stop)) return kStopped;
    if (bypass_.load()) break;
    absl::SleepFor(std::min(start - now, options_.poll_interval));
  }
  return absl::OkStatus();
}

}  // namespace rocksmigrate
