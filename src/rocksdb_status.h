// Converts rocksdb::Status to absl::Status, in one place.
#ifndef ROCKSMIGRATE_SRC_ROCKSDB_STATUS_H_
#define ROCKSMIGRATE_SRC_ROCKSDB_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace rocksmigrate {

// Maps RocksDB codes onto canonical ones: NotFound -> NotFound, Corruption ->
// DataLoss, IOError with no space -> ResourceExhausted, other IOError ->
// Internal (never Aborted, which callers reserve for item errors)...
// `context` ("writing batch at key task:1") is prepended.
absl::Status FromRocksDb(const rocksdb::Status& s, std::string_view context);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_ROCKSDB_STATUS_H_
