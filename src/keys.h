// Reserved key names, key ranges and key formatting.
#ifndef ROCKSMIGRATE_SRC_KEYS_H_
#define ROCKSMIGRATE_SRC_KEYS_H_

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

// Lowercase hex and back (for binary keys inside JSON metadata).
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

// A key as a person can read it: printable ASCII as is, other bytes as \xHH.
std::string PrintableKey(std::string_view key);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_KEYS_H_
