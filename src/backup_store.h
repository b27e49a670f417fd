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
#include "absl/time/time.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "src/metadata.h"

namespace rocksmigrate {

// The digest an online step keeps (under BackupDigestKey) of what it wrote
// over a record: "w" + the SHA-256 (hex) of the new value, or "d" for a
// delete.
std::string WrittenDigest(ItemResult::Kind kind, std::string_view new_value);
// True if a record now holding `current` (nullptr: absent) still holds what
// the migrator wrote, as `digest` says.
bool HoldsWritten(std::string_view digest, const std::string* current);

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
