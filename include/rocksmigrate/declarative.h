// Declarative migrations: `NNNN_name.json` files holding an RFC 6902 JSON
// Patch (SPEC §3, §8.3).
#ifndef ROCKSMIGRATE_DECLARATIVE_H_
#define ROCKSMIGRATE_DECLARATIVE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

// Loads and fully validates one migration file. Returns InvalidArgument with
// a message that names the file and the problem (malformed JSON, a missing,
// unknown or mistyped field, to != from + 1, a file name that does not match
// `NNNN_<name>.json` with NNNN == to, a bad patch operation).
absl::StatusOr<std::unique_ptr<Migration>> LoadMigrationFile(
    const std::string& path);

// Loads every `*.json` file of `dir` (other files are ignored, and so is
// `baseline.json`, see below), in name order. NotFound if `dir` does not
// exist. InvalidArgument for the first bad file, or a duplicate step for one
// prefix.
absl::StatusOr<std::vector<std::unique_ptr<Migration>>> LoadMigrationDir(
    const std::string& dir);

// The name of the file that states a directory's supported-version window:
// {"oldest_supported_version": N, "upgrade_hint": "..."} (the hint is
// optional). See MigrationRegistry::SetOldestSupportedVersion().
inline constexpr char kBaselineFileName[] = "baseline.json";

// LoadMigrationDir() and Register() of each file into `registry`, after
// setting the registry's oldest supported version from `dir/baseline.json`
// when it exists (InvalidArgument naming the file for a bad one, or for a
// migration file below its version).
absl::Status RegisterMigrationDir(const std::string& dir,
                                  MigrationRegistry* registry);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_DECLARATIVE_H_
