// The migrator lease: one migrator per database at a time.
//
// Across processes RocksDB's LOCK file already keeps a second primary out.
// Inside one process two Migrators could share a DB*; the lease excludes
// them through a process-wide table. Taking the lease writes nothing, so a
// call can run its preflight under it and still refuse with nothing
// written; Record() then writes the holder to `_migration_lock` (owner,
// pid, host, time) before the call's first write, so `status` can say who
// ran or is running. A `_migration_lock` left by a killed process is stale
// by construction (its process no longer holds the LOCK file) and is
// replaced.
#ifndef ROCKSMIGRATE_SRC_LEASE_H_
#define ROCKSMIGRATE_SRC_LEASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/metadata.h"

namespace rocksmigrate {

class Lease {
 public:
  // Takes the lease on meta->db(), waiting up to `wait` for another holder
  // in this process. Unavailable if it stays held. Writes nothing.
  static absl::StatusOr<std::unique_ptr<Lease>> Acquire(const MetaStore* meta,
                                                        absl::Duration wait);
  // Writes `_migration_lock`; once is enough, later calls do nothing.
  absl::Status Record(absl::Time now);
  // Releases: deletes `_migration_lock` if Record() wrote it (best effort)
  // and frees the slot.
  ~Lease();

  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  explicit Lease(const MetaStore* meta) : meta_(meta) {}
  const MetaStore* meta_;
  bool recorded_ = false;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_LEASE_H_
