// Reserved key names, key ranges and key formatting.
#ifndef ROCKSMIGRATE_SRC_KEYS_H_
#define ROCKSMIGRATE_SRC_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksmigrate {

inline constexpr char kSchemaVersionKey[] = "_schema_version";
inline constexpr char kHistoryKey[] = "_migration_history";
inline constexpr char kProgressKey[] = "_migration_progress";
inline constexpr char kLockKey[] = "_migration_lock";
inline constexpr char kBackupPrefix[] = "_backup_";
// History entries, one per key: kHistoryEntryPrefix + 20 decimal digits
// (the entry's sequence number, from 1). `_migration_history` itself holds
// the header that says so (or, in databases written before, the whole
// history as one JSON array).
inline constexpr char kHistoryEntryPrefix[] = "_migration_history:";

// A half-open key range [begin, end); no `end` means unbounded.
struct KeyRange {
  std::string begin;
  std::optional<std::string> end;
};

// The smallest key greater than every key that starts with `prefix`: the
// last byte that is not 0xFF incremented, trailing 0xFF bytes dropped.
// nullopt for an empty or all-0xFF prefix (no upper bound).
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// The ranges that hold the user records under `prefix`, in key order. A
// non-empty prefix not starting with '_' is one range; the empty prefix is
// everything but the reserved range ["_", "`").
std::vector<KeyRange> UserRanges(std::string_view prefix);

// Backup record key: "<backup id>:<original key>".
std::string BackupRecordKey(std::string_view backup_id, std::string_view key);
// The range of a backup's record keys: [id + ":", id + ";").
KeyRange BackupRecordRange(std::string_view backup_id);

// The digest of what an online step wrote over a backed-up record:
// "<backup id>#<original key>", in the range [id + "#", id + "$"), which
// sorts between the manifest and the records.
std::string BackupDigestKey(std::string_view backup_id, std::string_view key);
KeyRange BackupDigestRange(std::string_view backup_id);

// True if `id` names a backup manifest key ("_backup_YYYYMMDD_HHMMSS" and
// an optional "_N", N a positive decimal number).
bool IsBackupId(std::string_view id);

// The key of history entry `seq`, and back (nullopt unless `key` is exactly
// kHistoryEntryPrefix and 20 digits).
std::string HistoryEntryKey(uint64_t seq);
std::optional<uint64_t> HistoryEntrySeq(std::string_view key);

// True for the bookkeeping keys a repair may remove: `_schema_version`,
// `_migration_progress`, `_migration_lock`, `_migration_history` and the
// history entry keys.
bool IsRepairableKey(std::string_view key);

// Lowercase hex and back (for binary keys inside JSON metadata).
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

// A key as a person can read it: printable ASCII as is, other bytes as \xHH.
std::string PrintableKey(std::string_view key);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_KEYS_H_
