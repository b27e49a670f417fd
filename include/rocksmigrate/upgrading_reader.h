// The read path of an online migration: a server reads its records through
// an UpgradingReader while the backfill runs, and sees every record under a
// migrating prefix at the newest version. A record still at an older
// version is upgraded in memory by the same registered migrations (C++ or
// JSON file) the backfill runs; nothing is written.
//
// Contract: the reader applies, in order, every step from the database's
// `_schema_version` (or the baseline) to the newest registered version, to
// each record under a step's prefix. A migration returns Keep for a record
// already at or past its version (the contract of Migration::Migrate, which
// the backfill relies on too), so a record the backfill or the server has
// already written at the new version comes back unchanged. A migration that
// deletes a record makes it absent (Get: NotFound; iterators skip it).
// Reserved keys (starting with '_') and keys under no migrating prefix are
// returned as stored.
//
// The reader re-reads `_schema_version` at most once a second (or on
// Refresh()), so once the backfill is done reads skip the migrations.
//
// Thread-safety: Get(), Upgrade() and NewIterator() are safe to call from
// many threads at once; an UpgradingIterator is not thread-safe (like a
// rocksdb::Iterator).
#ifndef ROCKSMIGRATE_UPGRADING_READER_H_
#define ROCKSMIGRATE_UPGRADING_READER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

class UpgradingReader;

// Iterates like the rocksdb::Iterator it wraps, over upgraded values.
// value() is the record at the newest version; records a migration deletes
// are skipped. An item error (a record no migration can upgrade) ends the
// iteration: Valid() is false and status() names the key.
class UpgradingIterator {
 public:
  bool Valid() const;
  void SeekToFirst();
  void SeekToLast();
  void Seek(std::string_view target);
  void SeekForPrev(std::string_view target);
  void Next();
  void Prev();
  // REQUIRES: Valid().
  std::string_view key() const;
  std::string_view value() const;
  absl::Status status() const;

 private:
  friend class UpgradingReader;
  UpgradingIterator(const UpgradingReader* reader,
                    std::unique_ptr<rocksdb::Iterator> it);
  // Upgrades the entry under the iterator, moving on (forward or back) over
  // deleted ones.
  void Settle(bool forward);

  const UpgradingReader* reader_;
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string value_;
  absl::Status status_;
};

class UpgradingReader {
 public:
  // `db` and `registry` must outlive the reader. `baseline_version` is the
  // version of a database without `_schema_version` (as in MigratorOptions).
  // Reads `_schema_version` now; FailedPrecondition when it is unreadable or
  // newer than the registry knows, InvalidArgument when the registered
  // steps from it have a gap.
  static absl::StatusOr<std::unique_ptr<UpgradingReader>> Create(
      rocksdb::DB* db, const MigrationRegistry* registry,
      int baseline_version = 1);

  // The record at `key`, upgraded. NotFound when absent (or deleted by a
  // migration); FailedPrecondition naming the key and the migration when
  // the record cannot be upgraded (an item error); the read's error
  // otherwise.
  absl::StatusOr<std::string> Get(const rocksdb::ReadOptions& options,
                                  std::string_view key) const;
  absl::StatusOr<std::string> Get(std::string_view key) const {
    return Get(rocksdb::ReadOptions(), key);
  }
  // Upgrades a value the server read itself; nullopt when a migration
  // deletes the record.
  absl::StatusOr<std::optional<std::string>> Upgrade(std::string_view key,
                                                     std::string value) const;
  // An iterator over the default column family (see UpgradingIterator).
  std::unique_ptr<UpgradingIterator> NewIterator(
      const rocksdb::ReadOptions& options) const;

  // Re-reads `_schema_version` now.
  absl::Status Refresh() const;
  // The version reads upgrade from (the stored version last read) and to.
  int from_version() const;
  int to_version() const { return to_; }

 private:
  UpgradingReader(rocksdb::DB* db, const MigrationRegistry* registry,
                  int baseline, int to);
  struct Plan {
    int from = 0;
    std::vector<Step> steps;
  };
  absl::StatusOr<std::shared_ptr<const Plan>> PlanFrom(int from) const;
  std::shared_ptr<const Plan> CurrentPlan() const;

  rocksdb::DB* db_;
  const MigrationRegistry* registry_;
  int baseline_;
  int to_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Plan> plan_;  // Guarded by mu_.
  mutable std::atomic<int64_t> next_refresh_ns_{0};
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_UPGRADING_READER_H_
