// Group commit for the migrator's batches: the writer commits batch after
// batch without waiting for fsync, and one background thread syncs the WAL
// behind it. A batch is acknowledged (durable) once a sync that began after
// its write has returned.
//
// Why this keeps SPEC §4: every batch (backups + new values + cursor) is one
// WAL record, and the WAL is replayed as a prefix (RocksDB's point-in-time
// recovery), so a crash or power loss keeps a prefix of whole batches with
// the cursor that describes them; the next run resumes from that cursor.
// What changes is only when a commit is known to be durable: the writer
// overlaps the next batch with the previous batch's fsync instead of
// waiting, as databases do with group commit. Measured gain in README.md.
#ifndef ROCKSMIGRATE_SRC_WAL_SYNCER_H_
#define ROCKSMIGRATE_SRC_WAL_SYNCER_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"

namespace rocksmigrate {

// Thread-safety: Written()/WaitDurable() from one writer thread; the syncer
// runs on its own thread.
class WalSyncer {
 public:
  // At most `max_unsynced` writes may be ahead of the last completed sync;
  // Written() blocks beyond that, bounding what a power loss can undo.
  WalSyncer(rocksdb::DB* db, uint64_t max_unsynced);
  ~WalSyncer();  // Stops the thread; does not wait for durability.

  // Runs `write` (one WAL write of the writer) while no sync is in progress,
  // and returns its status. A failed write stops the syncer for good: after
  // a failed WAL append RocksDB's log writer must not be synced again
  // (DB::SyncWAL would trip an assertion in WritableFileWriter and abort
  // the process in Debian's build), so no sync may start, or be running,
  // between the failure and the writer seeing it.
  absl::Status Write(const std::function<absl::Status()>& write);
  // Records that write number `n` (1, 2, 3... in commit order) is in the WAL.
  // Returns the first sync error, if any.
  absl::Status Written(uint64_t n);
  // Blocks until writes 1..n are durable; returns the first sync error.
  absl::Status WaitDurable(uint64_t n);

 private:
  void Run();

  rocksdb::DB* db_;
  const uint64_t max_unsynced_;
  // Held across each WAL write and each sync: they never overlap.
  // Acquired before mu_.
  absl::Mutex io_mu_;
  absl::Mutex mu_;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_WAL_SYNCER_H_
