// The bookkeeping keys of SPEC §2 (`_schema_version`, `_migration_history`,
// `_migration_progress`) and the one function that commits a write.
#ifndef ROCKSMIGRATE_SRC_METADATA_H_
#define ROCKSMIGRATE_SRC_METADATA_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/migrator.h"

namespace rocksmigrate {

// `_migration_progress`: everything needed to resume or finish a step after
// a crash. Committed in the same write as the data it describes.
struct Cursor {
  InFlight info;               // run id, state, reason, step, backup, counts.
  size_t prefix_index = 0;     // Index into the step's migrations (by prefix).
  bool has_last_key = false;   // info.last_key is meaningful.
  int target = 0;              // The version the run (or rollback) aims at.
  bool backup = true;          // False for a --no-backup run.
  std::vector<std::string> migrations;
  std::map<std::string, std::string> checksums;
  int64_t elapsed_ms = 0;      // Time spent in earlier attempts of the step.
  uint64_t items_restored = 0; // Records restored so far (rolling_back).
};

nlohmann::json ToJson(const HistoryEntry& e);
absl::StatusOr<HistoryEntry> HistoryEntryFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const BackupInfo& b);
absl::StatusOr<BackupInfo> BackupInfoFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const Cursor& c);
absl::StatusOr<Cursor> CursorFromJson(const nlohmann::json& j);

// "2026-11-27T05:01:02.123Z".
std::string FormatIsoTime(absl::Time t);

// Serializes a metadata document. Strings in it may hold bytes that are not
// UTF-8 (a binary prefix, an item error's message quoting a value): they are
// replaced by U+FFFD instead of throwing, so bookkeeping never fails on them.
std::string DumpMetadata(const nlohmann::json& j);

// Reads and stages the bookkeeping keys of one database. Reads see the
// latest committed state. Writes go into a caller's WriteBatch, committed
// with Commit().
//
// Thread-safety: stateless apart from the handles; safe to share.
class MetaStore {
 public:
  // `backup_cf` null means the default column family.
  MetaStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* backup_cf);

  rocksdb::DB* db() const { return db_; }
  // The TransactionDB behind db(), or nullptr for a plain DB.
  rocksdb::TransactionDB* txn_db() const { return txn_db_; }
  rocksdb::ColumnFamilyHandle* backup_cf() const { return backup_cf_; }

  // `_schema_version`; nullopt when absent. FailedPrecondition when it is
  // not a decimal number ("metadata unreadable").
  absl::StatusOr<std::optional<int>> ReadVersion() const;
  absl::StatusOr<std::vector<HistoryEntry>> ReadHistory() const;
  absl::StatusOr<std::optional<Cursor>> ReadCursor() const;
  // True if any user key exists under one of `prefixes`.
  absl::StatusOr<bool> HasUserRecords(
      const std::vector<std::string>& prefixes) const;

  void PutVersion(rocksdb::WriteBatch* batch, int version) const;
  void PutHistory(rocksdb::WriteBatch* batch,
                  const std::vector<HistoryEntry>& history) const;
  void PutCursor(rocksdb::WriteBatch* batch, const Cursor& cursor) const;
  void DeleteCursor(rocksdb::WriteBatch* batch) const;

  // Commits `batch` atomically with the WAL on and synced before returning.
  // On a TransactionDB the write skips per-key locks (the caller holds the
  // migrator lease); range deletions need that too.
  absl::Status Commit(rocksdb::WriteBatch* batch, std::string_view what) const;

 private:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const;

  rocksdb::DB* db_;
  rocksdb::TransactionDB* txn_db_;
  rocksdb::ColumnFamilyHandle* backup_cf_;
};

// Replaces the entry with the same run_id and step, or appends `entry`.
void UpsertHistory(std::vector<HistoryEntry>* history,
                   const HistoryEntry& entry);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_METADATA_H_
