// The version a parsed JSON record carries (JsonMigration's rule; private
// to the library).
#ifndef ROCKSMIGRATE_SRC_RECORD_VERSION_H_
#define ROCKSMIGRATE_SRC_RECORD_VERSION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "rocksmigrate/json_migration.h"

namespace rocksmigrate {

// Reads `schema_version` of a parsed record: -1 when absent, an error when
// present but not a non-negative integer (a version above INT64_MAX reads
// as INT64_MAX).
absl::StatusOr<int64_t> RecordSchemaVersion(const Json& record);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_RECORD_VERSION_H_
