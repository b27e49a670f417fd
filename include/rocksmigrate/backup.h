// Backups: the manifest of each step's backup as listed and verified, and
// the retention policy that prunes them (Migrator::ListBackups(),
// VerifyBackup(), PruneBackups()).
#ifndef ROCKSMIGRATE_BACKUP_H_
#define ROCKSMIGRATE_BACKUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace rocksmigrate {

// The column family name recorded for backups kept in the default one.
inline constexpr char kDefaultColumnFamilyName[] = "default";

// A backup's manifest (`_backup_<id>`).
struct BackupInfo {
  std::string id;  // "_backup_20261127_050102" or "..._2".
  int from = 0;
  int to = 0;
  std::string created_at;  // ISO-8601 UTC.
  std::vector<std::string> prefixes;
  uint64_t item_count = 0;
  bool complete = false;
  std::string run_id;
  // True for the backup a down pass takes of the records at `to` before it
  // rewrites them to `from` (deleted when the pass finishes).
  bool down = false;
  // The column family that holds it.
  std::string column_family = kDefaultColumnFamilyName;
  // False when the manifest's bytes cannot be read: only `id`,
  // `column_family` and `problem` are meaningful then.
  bool readable = true;
  std::string problem;
  // What its records and digests take in the database, from RocksDB's size
  // estimates (SST files and memtables; compressed bytes on disk). 0 when
  // RocksDB can say nothing (a backup within one data block of a file).
  uint64_t approximate_bytes = 0;
};

// What VerifyBackup() found.
struct BackupVerification {
  BackupInfo backup;
  // Records present under the backup's key range.
  uint64_t records_present = 0;
  // Records whose key lies outside the manifest's prefixes.
  uint64_t records_outside_prefixes = 0;
  // OK when the manifest is readable and complete, and its item count equals
  // the records present, all under its prefixes; DataLoss otherwise, with
  // what differs.
  absl::Status status;
};

// What Migrator::PruneBackups(const RetentionPolicy&) and the startup call
// (StartupOptions::backup_retention) delete: a readable backup goes when it
// is not among the newest `keep` and, if `older_than` is set, was created
// longer ago than that. The backup of a run in flight and unreadable
// manifests are never deleted.
struct RetentionPolicy {
  // The newest readable backups kept whatever their age. Default: 0.
  size_t keep = 0;
  // Only backups older than this go (by their created_at and the Migrator's
  // clock). nullopt: every backup beyond the newest `keep` goes.
  // Default: nullopt.
  std::optional<absl::Duration> older_than;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_BACKUP_H_
