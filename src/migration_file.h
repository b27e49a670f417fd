// Parsing one declarative migration file from its bytes (what
// LoadMigrationFile does after reading the file), for the fuzz target and
// for callers that hold the bytes already.
#ifndef ROCKSMIGRATE_SRC_MIGRATION_FILE_H_
#define ROCKSMIGRATE_SRC_MIGRATION_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rocksmigrate/migration.h"

namespace rocksmigrate {

// `file_name` is checked against the file's fields (NNNN_<name>.json);
// `display` names the file in errors. Same contract as LoadMigrationFile.
absl::StatusOr<std::unique_ptr<Migration>> ParseMigrationFile(
    std::string_view bytes, const std::string& file_name,
    const std::string& display);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_MIGRATION_FILE_H_
