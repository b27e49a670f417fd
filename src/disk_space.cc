#include "src/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace rocksmigrate {

uint64_t EstimateStepWriteBytes(rocksdb::DB* db,
                                const std::vector<KeyRange>& ranges) {
  uint64_t total = 0;
  for (const KeyRange& kr : ranges) {
    // An unbounded range ends at the largest key we can name.
    const std::string end = kr.end ? *kr.end : std::string(64, '\xff');
    rocksdb::Range range(kr.begin, end);
    rocksdb::SizeApproximationOptions sao;
    sao.include_files = true;
    sao.include_memtables = true;
    uint64_t size = 0;
    if (db->GetApproximateSizes(sao, db->DefaultColumnFamily(), &range, 1,
                                &size)
            .ok()) {
      total += size;
    }
  }
  const uint64_t doubled = 2 * total;
  return doubled + static_cast<uint64_t>(doubled * kDiskSpaceMarginFraction) +
         kDiskSpaceMinMarginBytes;
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
    const std::function<absl::StatusOr<uint64_t>(const std::string&)>&
        free_bytes) {
  const std::string& path = db->GetName();
  absl::StatusOr<uint64_t> free = free_bytes(path);
  if (!free.ok()) {
    VLOG(1) << "rocksmigrate: skipping the free-space check: "
            << free.status();
    return absl::OkStatus();
  }
  const uint64_t needed = EstimateStepWriteBytes(db, ranges);
  if (needed <= *free) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "not enough free disk space for database ", path, ": the step needs "
      "about ", needed, " bytes (a backup and a new value per record, plus a "
      "margin) but only ", *free, " bytes are free; free at least ",
      needed - *free, " bytes (delete old backups with `backups prune`, or "
      "move other files off that disk) and run migrate again; nothing was "
      "written"));
}

}  // namespace rocksmigrate
