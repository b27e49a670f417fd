// The free-space check before a step with backups (SPEC §4): a step writes
// a backup and a new value for each record it changes, so it needs about
// twice the bytes of its prefixes, and running out of space in the middle
// of a step stops it with an I/O error. Refusing up front says what to do.
#ifndef ROCKSMIGRATE_SRC_DISK_SPACE_H_
#define ROCKSMIGRATE_SRC_DISK_SPACE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "src/keys.h"

namespace rocksmigrate {

// The margin added to twice the prefixes' size: for the memtable flushes
// and compactions that follow the writes.
inline constexpr uint64_t kDiskSpaceMinMarginBytes = 1 << 20;
inline constexpr double kDiskSpaceMarginFraction = 0.10;

// Bytes a step with backups will write for the records in `ranges` of the
// default column family of `db`: twice their approximate size on disk and
// in the memtables (RocksDB's GetApproximateSizes; one backup plus one new
// value per record), plus kDiskSpaceMarginFraction of that and
// kDiskSpaceMinMarginBytes. An estimate, not a bound.
uint64_t EstimateStepWriteBytes(rocksdb::DB* db,
                                const std::vector<KeyRange>& ranges);

// Bytes available to the process on the file system holding `path`
// (statvfs: f_bavail * f_frsize). An error if statvfs fails.
absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path);

// Returns ResourceExhausted when the estimated bytes of a step over
// `ranges` exceed the free bytes of the database directory
// (db->GetName()). The message names the path, the bytes needed and free,
// and what to do. Writes nothing. When the free space cannot be read, the
// check is skipped (OK): it protects, it does not gate.
// `free_bytes` is FreeDiskBytes unless a test substitutes it.
absl::Status CheckDiskSpaceForStep(
    rocksdb::DB* db, const std::vector<KeyRange>& ranges,
    const std::function<absl::StatusOr<uint64_t>(const std::string&)>&
        free_bytes = FreeDiskBytes);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_DISK_SPACE_H_
