// Backups: one per step (SPEC §8.1). A manifest under `_backup_<stamp>[_N]`
// and each original record under `_backup_<stamp>[_N]:<original key>`, in the
// backup column family (the default one unless configured).
#ifndef ROCKSMIGRATE_SRC_BACKUP_STORE_H_
#define ROCKSMIGRATE_SRC_BACKUP_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/migrator.h"
#include "src/metadata.h"

namespace rocksmigrate {

// Thread-safety: stateless apart from the store; safe to share.
class BackupStore {
 public:
  explicit BackupStore(const MetaStore* meta) : meta_(meta) {}

  // A backup id for a step started at `now` that no existing backup uses:
  // "_backup_YYYYMMDD_HHMMSS", or with "_2", "_3"... when that second is
  // taken (two runs in one second, or a clock that went backwards).
  absl::StatusOr<std::string> NewId(absl::Time now) const;

  absl::StatusOr<std::optional<BackupInfo>> Get(const std::string& id) const;
  // Every manifest, oldest first by creation time. Skips over the records,
  // so its cost does not grow with the backups' sizes.
  absl::StatusOr<std::vector<BackupInfo>> List() const;

  void PutManifest(rocksdb::WriteBatch* batch, const BackupInfo& info) const;
  void PutRecord(rocksdb::WriteBatch* batch, std::string_view id,
                 std::string_view key, std::string_view value) const;
  // Stages the deletion of a whole backup: one range delete for its records
  // and the manifest.
  void StageDelete(rocksdb::WriteBatch* batch, const std::string& id) const;

  // True if `id` names a backup manifest key ("_backup_" + stamp [+ "_N"]).
  static bool IsBackupId(std::string_view id);

 private:
  const MetaStore* meta_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_BACKUP_STORE_H_
