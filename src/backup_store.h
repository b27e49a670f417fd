// Backups: one per step (SPEC §8.1). A manifest under `_backup_<stamp>[_N]`
// and each original record under `_backup_<stamp>[_N]:<original key>`, in a
// backup column family: new backups go to the one the options name (the
// default column family unless configured); each step records that
// column family's name, and readers look for its backup there. Lists and
// id allocation cover every column family the store was given.
#ifndef ROCKSMIGRATE_SRC_BACKUP_STORE_H_
#define ROCKSMIGRATE_SRC_BACKUP_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "absl/time/time.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "src/metadata.h"

namespace rocksmigrate {

// Digests. An online step keeps, beside its backup, what it wrote over each
// backed-up record, so that a restore puts the original back only where the
// record still holds the migrator's bytes. One digest block per committed
// batch, under BackupDigestKey(id, <the last key the batch changed>): for
// each record the batch changed, in key order, its key and its digest.
//
// A record's digest: "d" for a delete, else "w" and the SHA-256 (32 raw
// bytes) of the value written.
std::string WrittenDigest(ItemResult::Kind kind, std::string_view new_value);
// True if a record now holding `current` (nullptr: absent) still holds what
// the migrator wrote, as `digest` says.
bool HoldsWritten(std::string_view digest, const std::string* current);

struct DigestEntry {
  std::string key;
  std::string digest;
};
// A block's bytes: each entry as a LEB128 key length, the key, a LEB128
// digest length and the digest.
std::string EncodeDigestBlock(const std::vector<DigestEntry>& entries);
// FailedPrecondition naming `block_key` when the bytes are not a block (or
// its keys are not in ascending order).
absl::StatusOr<std::vector<DigestEntry>> DecodeDigestBlock(
    std::string_view bytes, std::string_view block_key);

// Finds the digests of one backup's records, asked in ascending key order
// (a restore's order): reads one block at a time.
class DigestLookup {
 public:
  DigestLookup(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
               std::string backup_id)
      : db_(db), cf_(cf), id_(std::move(backup_id)) {}
  // The digest of `key`; nullopt when the step kept none (a record
  // committed while the step ran offline).
  absl::StatusOr<std::optional<std::string>> Find(const std::string& key);

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string id_;
  bool loaded_ = false;
  std::string seek_key_;            // The key the loaded block was found by.
  bool past_end_ = false;           // No block at or after seek_key_.
  std::string block_last_;          // The loaded block's last key.
  std::vector<DigestEntry> block_;  // The loaded block.
};

// Thread-safety: stateless apart from the handles; safe to share.
class BackupStore {
 public:
  // `write_cf` (nullptr: the default column family) receives new backups;
  // `others` may hold older ones. Duplicates are ignored.
  BackupStore(const MetaStore* meta, rocksdb::ColumnFamilyHandle* write_cf,
              const std::vector<rocksdb::ColumnFamilyHandle*>& others);

  // The column family new backups go to, and its recorded name.
  rocksdb::ColumnFamilyHandle* write_cf() const { return write_cf_; }
  std::string write_cf_name() const;

  // The handle of the column family recorded as `name`; FailedPrecondition
  // naming it when this store was not given it. An empty name (a step
  // recorded before names were) is the default column family.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Resolve(
      const std::string& name) const;

  // A backup id for a step started at `now` that no existing backup uses,
  // in any column family: "_backup_YYYYMMDD_HHMMSS", or with "_2", "_3"...
  // when that second is taken (two runs in one second, or a clock that went
  // backwards).
  absl::StatusOr<std::string> NewId(absl::Time now) const;

  // The manifest of backup `id` in the column family named `cf_name`, or in
  // any column family when `cf_name` is empty. nullopt when absent;
  // FailedPrecondition (naming the key) when unreadable.
  absl::StatusOr<std::optional<BackupInfo>> Get(
      const std::string& id, const std::string& cf_name = "") const;
  // Every manifest, oldest first by creation time; unreadable ones are
  // listed with readable == false. Skips over the records, so its cost does
  // not grow with the backups' sizes.
  absl::StatusOr<std::vector<BackupInfo>> List() const;
  // What the records and digests of backup `id` in `cf` take, from
  // RocksDB's size estimates; 0 when it can say nothing.
  uint64_t ApproximateBytes(rocksdb::ColumnFamilyHandle* cf,
                            const std::string& id) const;
  // Counts the records of `info` and checks them against it and against
  // `expected_items` (the records the step backed up).
  absl::StatusOr<BackupVerification> Verify(const BackupInfo& info,
                                            uint64_t expected_items) const;

  void PutManifest(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                   const BackupInfo& info) const;
  void PutRecord(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                 std::string_view id, std::string_view key,
                 std::string_view value) const;
  // Stages the deletion of a whole backup: one range delete for its records
  // and the manifest.
  void StageDelete(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                   const std::string& id) const;

 private:
  const MetaStore* meta_;
  rocksdb::ColumnFamilyHandle* write_cf_;
  std::vector<rocksdb::ColumnFamilyHandle*> all_;  // write_cf_ first.
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_BACKUP_STORE_H_
