// The history (SPEC §2, §5): one JSON entry per step of each run, one key
// per entry, so that appending one costs O(1) whatever the history's length
// and `status` reads only the newest few.
//
//   _migration_history              {"format":2,"count":N}  (the header)
//   _migration_history:000...0001   the oldest entry
//   ...
//   _migration_history:000...000N   the newest entry
//
// A database written before this layout holds the whole history as one JSON
// array in `_migration_history` ("legacy"). It is read as it is, and
// converted by the first writing operation, in one atomic write
// (StageConversion).
//
// Every read is strict: a header whose count does not match the entry keys,
// a key in the entry range that is not an entry key, a gap in the sequence
// or an entry that does not decode is FailedPrecondition naming the key.
//
// Thread-safety: stateless apart from the store; safe to share.
#ifndef ROCKSMIGRATE_SRC_HISTORY_STORE_H_
#define ROCKSMIGRATE_SRC_HISTORY_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/migrator.h"
#include "src/metadata.h"

namespace rocksmigrate {

class HistoryStore {
 public:
  explicit HistoryStore(const MetaStore* meta) : meta_(meta) {}

  struct Layout {
    bool legacy = false;  // One JSON array in `_migration_history`.
    uint64_t count = 0;   // Entries.
  };
  // Reads the header (or the legacy array's length) and checks it against
  // the first and last entry keys. O(1) in the keyed layout.
  absl::StatusOr<Layout> ReadLayout() const;

  // Calls `fn` for each entry, oldest first (newest first with
  // `newest_first`), one at a time; stops when `fn` returns false.
  absl::Status ForEach(const std::function<bool(const HistoryEntry&)>& fn,
                       bool newest_first = false) const;
  // The newest `n` entries, oldest first.
  absl::StatusOr<std::vector<HistoryEntry>> Recent(size_t n) const;
  // Entry `seq`, or NotFound. REQUIRES: the keyed layout.
  absl::StatusOr<HistoryEntry> Get(uint64_t seq) const;

  // Stages the conversion of a legacy history into the keyed layout.
  // REQUIRES: ReadLayout().legacy.
  absl::Status StageConversion(rocksdb::WriteBatch* batch) const;

  // Repair: stages the removal of entry `seq`; the later entries move down
  // by one (copied as bytes, not decoded: another may be damaged too) and
  // the header counts one fewer, so the sequence stays whole.
  absl::Status StageRemoveEntry(rocksdb::WriteBatch* batch, uint64_t seq) const;

  // Stages writes to a keyed history that held `count` entries before the
  // batch (from ReadLayout(), after any conversion). One per atomic write.
  class Writer {
   public:
    Writer(uint64_t count) : count_(count) {}
    // Appends `entry`; returns its sequence number.
    uint64_t Append(rocksdb::WriteBatch* batch, HistoryEntry entry);
    // Replaces entry `seq` (1 <= seq <= count).
    void Put(rocksdb::WriteBatch* batch, uint64_t seq, HistoryEntry entry);

   private:
    uint64_t count_;
  };

 private:
  absl::StatusOr<std::vector<HistoryEntry>> ReadLegacy(
      const std::string& bytes) const;

  const MetaStore* meta_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_HISTORY_STORE_H_
