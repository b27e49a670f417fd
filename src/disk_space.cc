#include "src/disk_space.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rocksdb/table_properties.h"

namespace rocksmigrate {
namespace {

// An unbounded range ends at the largest key we can name.
rocksdb::Range ToRange(const KeyRange& kr, std::string* end) {
  *end = kr.end ? *kr.end : std::string(64, '\xff');
  return rocksdb::Range(kr.begin, *end);
}

uint64_t WriteBufferBytes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
  const rocksdb::Options o = db->GetOptions(cf);
  return static_cast<uint64_t>(o.write_buffer_size) *
         static_cast<uint64_t>(std::max(1, o.max_write_buffer_number));
}

std::string Mb(uint64_t bytes) {
  return absl::StrCat(bytes / (1024 * 1024), ".",
                      (bytes % (1024 * 1024)) * 10 / (1024 * 1024), " MiB");
}

}  // namespace

StepSpaceEstimate EstimateStepWriteBytes(rocksdb::DB* db,
                                         const std::vector<KeyRange>& ranges,
                                         rocksdb::ColumnFamilyHandle* backup_cf) {
  rocksdb::ColumnFamilyHandle* data_cf = db->DefaultColumnFamily();
  uint64_t file_bytes = 0, memtable_bytes = 0;
  uint64_t raw = 0, stored = 0;
  for (const KeyRange& kr : ranges) {
    std::string end;
    rocksdb::Range range = ToRange(kr, &end);
    uint64_t size = 0;
    rocksdb::SizeApproximationOptions files;
    files.include_files = true;
    files.include_memtables = false;
    if (db->GetApproximateSizes(files, data_cf, &range, 1, &size).ok()) {
      file_bytes += size;
    }
    uint64_t count = 0, mem = 0;
    db->GetApproximateMemTableStats(data_cf, range, &count, &mem);
    memtable_bytes += mem;
    // The compression ratio of the files holding the range.
    rocksdb::TablePropertiesCollection props;
    if (db->GetPropertiesOfTablesInRange(data_cf, &range, 1, &props).ok()) {
      for (const auto& [name, p] : props) {
        raw += p->raw_key_size + p->raw_value_size;
        stored += p->data_size;
      }
    }
  }
  const double ratio =
      stored > 0 ? std::max(1.0, static_cast<double>(raw) / stored) : 1.0;
  StepSpaceEstimate e;
  e.compressed_bytes = file_bytes + memtable_bytes;
  e.uncompressed_bytes =
      static_cast<uint64_t>(static_cast<double>(file_bytes) * ratio) +
      memtable_bytes;
  e.wal_limit_bytes = WriteBufferBytes(db, data_cf);
  if (backup_cf != nullptr && backup_cf->GetID() != data_cf->GetID()) {
    e.wal_limit_bytes += WriteBufferBytes(db, backup_cf);
  }
  if (e.uncompressed_bytes == 0) {
    e.needed_bytes = kDiskSpaceMinMarginBytes;
    return e;
  }
  const uint64_t wal = std::min(2 * e.uncompressed_bytes, e.wal_limit_bytes);
  const uint64_t base = wal + 3 * e.compressed_bytes;
  e.needed_bytes =
      base + std::max<uint64_t>(
                 kDiskSpaceMinMarginBytes,
                 static_cast<uint64_t>(base * kDiskSpaceMarginFraction));
  return e;
}

absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) {
    return absl::InternalError(
        absl::StrCat("statvfs(", path, "): ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

absl::Status CheckDiskSpaceForStep(
    rocksdb::DB* db, const std::vector<KeyRange>& ranges,
    rocksdb::ColumnFamilyHandle* backup_cf,
    const std::function<absl::StatusOr<uint64_t>(const std::string&)>&
        free_bytes) {
  const std::string& path = db->GetName();
  absl::StatusOr<uint64_t> free = free_bytes(path);
  if (!free.ok()) {
    VLOG(1) << "rocksmigrate: skipping the free-space check: "
            << free.status();
    return absl::OkStatus();
  }
  const StepSpaceEstimate e = EstimateStepWriteBytes(db, ranges, backup_cf);
  if (e.needed_bytes <= *free) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "not enough free disk space for database ", path, ": the run needs "
      "about ", e.needed_bytes, " bytes (", Mb(e.needed_bytes), ": its records "
      "are ", Mb(e.uncompressed_bytes), " uncompressed, ", Mb(e.compressed_bytes),
      " on disk; a backup and a new value each, logged, flushed and "
      "compacted, plus a margin) but ", *free, " bytes (", Mb(*free),
      ") are free; free at least ", e.needed_bytes - *free,
      " bytes (delete old backups, or move other files off that disk) and "
      "run again; nothing was written"));
}

}  // namespace rocksmigrate
