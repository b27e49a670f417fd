// Pacing of a migration that runs beside a live server: rate limits that
// can change while it runs, backoff while RocksDB stalls writes or
// compaction falls behind, a pause flag file an operator can touch, and a
// "busy now?" callback the server provides.
//
// The migrator consults its Pacer before it reads each batch (its reader
// thread calls Admit()). A paused or throttled run holds no record lock and,
// after a wait of over a second, no old iterator; a stop request is seen
// within one poll interval.
#ifndef ROCKSMIGRATE_PACING_H_
#define ROCKSMIGRATE_PACING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"

namespace rocksmigrate {

struct PacingOptions {
  // Records per second the run may read and commit (migrated and skipped
  // alike); 0: no limit. The default keeps a light read load's p99 and
  // p99.9 latency near idle on a 2-core machine (README "Zero-downtime
  // migration": 15,000 already doubled the p99.9 there). Default: 10000.
  uint64_t records_per_second = 10000;
  // Bytes of keys and values per second the run may write (new values and
  // backups); 0: no limit. Default: 0.
  uint64_t bytes_per_second = 0;
  // Wait while RocksDB stops or delays writes (a write stall), and while its
  // estimate of pending compaction bytes is above
  // max_pending_compaction_bytes (0: do not look at it). Default: true,
  // 256 MiB.
  bool backoff_on_write_stall = true;
  uint64_t max_pending_compaction_bytes = 256ull << 20;
  // While a file exists at this path, the run is paused (empty: none).
  // Default: none.
  std::string pause_file;
  // While this returns true, the run is paused ("the server is busy").
  // Called from the migrating thread, once per batch and poll; must be
  // cheap and thread-safe. Default: none.
  std::function<bool()> busy;
  // How often a waiting run looks again. Default: 100 ms.
  absl::Duration poll_interval = absl::Milliseconds(100);
};

// Thread-safety: every method is safe to call from any thread while a run
// uses the Pacer.
class Pacer {
 public:
  explicit Pacer(PacingOptions options = {});

  void SetRecordsPerSecond(uint64_t n);  // 0: no limit.
  void SetBytesPerSecond(uint64_t n);    // 0: no limit.
  uint64_t records_per_second() const { return records_per_second_.load(); }
  uint64_t bytes_per_second() const { return bytes_per_second_.load(); }
  // Pauses the run at its next batch boundary until Resume().
  void Pause() { paused_.store(true); }
  void Resume() { paused_.store(false); }
  bool paused() const { return paused_.load(); }
  // While true, no limit, backoff or pause applies (a server's startup uses
  // it for the part of the run before it serves).
  void SetBypass(bool bypass) { bypass_.store(bypass); }

  // What holds the run back now: empty when nothing does, else a phrase
  // such as "paused (flag file /srv/pause)", "paused (server busy)",
  // "throttled: write stall", "throttled: pending compaction 300 MiB",
  // "rate limit 20000 records/s".
  std::string state() const;

  // Called by the migrator before it goes on with a batch of `records`
  // records that will write about `bytes` bytes to `db`: waits while paused, busy or stalled, then as
  // long as the rate limits require. Calls `on_state` (if set) each time
  // the reason for waiting changes, and with "" when the wait ends after a
  // pause or throttle. Returns Cancelled as soon as `stop` reads true.
  absl::Status Admit(rocksdb::DB* db, uint64_t records, uint64_t bytes,
                     const std::atomic<bool>* stop,
                     const std::function<void(const std::string&)>& on_state);

 private:
  // Why the run must wait now (empty: it need not).
  std::string HoldReason(rocksdb::DB* db) const;
  void SetState(std::string state);

  PacingOptions options_;
  std::atomic<uint64_t> records_per_second_;
  std::atomic<uint64_t> bytes_per_second_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> bypass_{false};
  mutable std::mutex mu_;
  std::string state_;          // Guarded by mu_.
  absl::Time next_allowed_;    // Guarded by mu_: the token bucket's clock.
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_PACING_H_
