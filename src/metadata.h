// The bookkeeping keys of SPEC §2 other than the history and the backups
// (`_schema_version`, `_migration_progress`), their strict codecs, and the
// one function that commits a write.
//
// Every decoder is strict: a value that is not exactly what an encoder here
// writes (a missing, unknown or mistyped field, a number out of range, a
// state and reason that do not go together) is FailedPrecondition naming the
// key and the field, with the key attached as a payload (BookkeepingKeyOf).
#ifndef ROCKSMIGRATE_SRC_METADATA_H_
#define ROCKSMIGRATE_SRC_METADATA_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
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
  bool backup = true;          // False for a run without backups.
  std::vector<std::string> migrations;
  std::map<std::string, std::string> checksums;
  int64_t elapsed_ms = 0;      // Time spent in earlier attempts of the step.
  // The sequence number of the step's history entry, 0 while it has none.
  uint64_t history_seq = 0;
  // The step's prefixes under which no record existed when it started.
  std::vector<std::string> empty_prefixes;
};

// The largest schema version a bookkeeping key may hold.
inline constexpr int kMaxVersion = 1000000000;

std::string EncodeVersion(int version);
absl::StatusOr<int> DecodeVersion(std::string_view bytes);
std::string EncodeCursor(const Cursor& cursor);
absl::StatusOr<Cursor> DecodeCursor(std::string_view bytes);
// `key` names the entry's key in errors.
std::string EncodeHistoryEntry(const HistoryEntry& entry);
absl::StatusOr<HistoryEntry> DecodeHistoryEntry(std::string_view bytes,
                                                std::string_view key);
absl::StatusOr<HistoryEntry> HistoryEntryFromJson(const nlohmann::json& j,
                                                  std::string_view key);
nlohmann::json HistoryEntryToJson(const HistoryEntry& entry);
// A manifest; `id` is its key, which the manifest must name.
std::string EncodeManifest(const BackupInfo& info);
absl::StatusOr<BackupInfo> DecodeManifest(std::string_view bytes,
                                          std::string_view id);

// "2026-11-27T05:01:02.123Z".
std::string FormatIsoTime(absl::Time t);
// The time FormatIsoTime() wrote (any number of fractional digits);
// nullopt for anything else.
std::optional<absl::Time> ParseIsoTime(const std::string& text);

// Serializes a metadata document. Strings in it may hold bytes that are not
// UTF-8 (a binary prefix, an item error's message quoting a value): they are
// replaced by U+FFFD instead of throwing, so bookkeeping never fails on them.
std::string DumpMetadata(const nlohmann::json& j);

// FailedPrecondition: bookkeeping key `key` cannot be trusted because of
// `why`. Says that nothing was written and attaches the key.
absl::Status BookkeepingError(std::string_view key, std::string_view why);
// The key a BookkeepingError() names; empty for other statuses.
std::string BookkeepingKeyOf(const absl::Status& status);

// Reads and stages the bookkeeping keys of one database. Reads see the
// latest committed state. Writes go into a caller's WriteBatch, committed
// with Commit().
//
// Thread-safety: stateless apart from the handles; safe to share.
class MetaStore {
 public:
  explicit MetaStore(rocksdb::DB* db);

  rocksdb::DB* db() const { return db_; }
  // The TransactionDB behind db(), or nullptr for a plain DB.
  rocksdb::TransactionDB* txn_db() const { return txn_db_; }

  // The value of `key` in `cf` (default: the default column family);
  // nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key, rocksdb::ColumnFamilyHandle* cf = nullptr) const;

  // `_schema_version`; nullopt when absent.
  absl::StatusOr<std::optional<int>> ReadVersion() const;
  absl::StatusOr<std::optional<Cursor>> ReadCursor() const;
  // True if the default column family holds any user (non-reserved) key.
  absl::StatusOr<bool> HasUserRecords() const;
  // True if any user key starts with `prefix`.
  absl::StatusOr<bool> HasRecordsUnder(std::string_view prefix) const;

  void PutVersion(rocksdb::WriteBatch* batch, int version) const;
  void PutCursor(rocksdb::WriteBatch* batch, const Cursor& cursor) const;
  void DeleteCursor(rocksdb::WriteBatch* batch) const;

  // Commits `batch` atomically with the WAL on and synced before returning.
  // On a TransactionDB the write skips per-key locks (the caller holds the
  // migrator lease); range deletions need that too.
  absl::Status Commit(rocksdb::WriteBatch* batch, std::string_view what) const;

 private:
  rocksdb::DB* db_;
  rocksdb::TransactionDB* txn_db_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_METADATA_H_
