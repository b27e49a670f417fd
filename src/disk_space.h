// The free-space check before a run with backups (SPEC §4): a step writes a
// backup and a new value for each record it changes, and running out of
// space in the middle of a step stops it with an I/O error (and, on some
// file-system sizes, RocksDB 7.8 aborts the process). Refusing up front says
// what to do instead.
//
// What a step needs on disk, for records whose uncompressed size is U and
// whose compressed size on disk is C (U / C measured from the table
// properties of the SST files the ranges touch):
//  - the write-ahead log: backups and new values are logged uncompressed, 2U,
//    until the memtables holding them are flushed; at most W, the bytes the
//    write buffers hold before a flush must happen;
//  - the flushed files: a backup and a new value per record, 2C;
//  - compaction: the flushed files merge with the old ones; outputs are
//    written before inputs are deleted, about C more;
//  - a margin: kDiskSpaceMarginFraction of that, at least
//    kDiskSpaceMinMarginBytes.
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

inline constexpr uint64_t kDiskSpaceMinMarginBytes = 1 << 20;
inline constexpr double kDiskSpaceMarginFraction = 0.10;

// What EstimateStepWriteBytes() found, for messages and tests.
struct StepSpaceEstimate {
  uint64_t uncompressed_bytes = 0;  // U
  uint64_t compressed_bytes = 0;    // C
  uint64_t wal_limit_bytes = 0;     // W
  uint64_t needed_bytes = 0;
};

// The bytes a step with backups writes for the records in `ranges` of the
// default column family of `db`, backups going to `backup_cf` (as above).
// An estimate, not a bound.
StepSpaceEstimate EstimateStepWriteBytes(rocksdb::DB* db,
                                         const std::vector<KeyRange>& ranges,
                                         rocksdb::ColumnFamilyHandle* backup_cf);

// Bytes available to the process on the file system holding `path`
// (statvfs: f_bavail * f_frsize). An error if statvfs fails.
absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path);

// Returns ResourceExhausted when the estimated bytes of the steps over
// `ranges` exceed the free bytes of the database directory
// (db->GetName()). The message names the path, the bytes needed and free,
// and what to do. Writes nothing. When the free space cannot be read, the
// check is skipped (OK): it protects, it does not gate.
// `free_bytes` is FreeDiskBytes unless a test substitutes it.
absl::Status CheckDiskSpaceForStep(
    rocksdb::DB* db, const std::vector<KeyRange>& ranges,
    rocksdb::ColumnFamilyHandle* backup_cf,
    const std::function<absl::StatusOr<uint64_t>(const std::string&)>&
        free_bytes = FreeDiskBytes);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_DISK_SPACE_H_
