// Builds a PatchMigration from a compiled patch and the file it came from
// (for the migration-file loader, which holds the parsed file already).
#ifndef ROCKSMIGRATE_SRC_PATCH_MIGRATION_FACTORY_H_
#define ROCKSMIGRATE_SRC_PATCH_MIGRATION_FACTORY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "rocksmigrate/patch_migration.h"
#include "src/json_patch.h"

namespace rocksmigrate {

class PatchMigrationFactory {
 public:
  static absl::StatusOr<std::unique_ptr<PatchMigration>> Make(
      int from, std::string name, std::string prefix, JsonPatch patch,
      std::optional<JsonPatch> down, std::string source_file,
      std::string checksum);
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_PATCH_MIGRATION_FACTORY_H_
