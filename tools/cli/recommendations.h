// What an operator should look at, each with the command that acts on it
// (`recommendations`, and the `report` that includes them): old backups to
// prune, a run in flight (and one whose process seems gone), pending steps,
// a failed last run, low disk space, migration files changed since they were
// applied, bookkeeping that cannot be trusted. Reads only bookkeeping keys,
// the files' checksums and the file system's free space.
#ifndef ROCKSMIGRATE_TOOLS_CLI_RECOMMENDATIONS_H_
#define ROCKSMIGRATE_TOOLS_CLI_RECOMMENDATIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "tools/cli/commands.h"

namespace rocksmigrate::cli {

struct Recommendation {
  // "critical" (nothing migrates until it is dealt with), "warning" or
  // "info".
  std::string severity;
  // A stable word for scripts: "bookkeeping", "failed_run", "stale_run",
  // "run_in_flight", "pending_steps", "changed_file", "old_backups",
  // "low_disk", "no_backup".
  std::string kind;
  std::string message;
  std::string command;  // The command that acts on it ("" when none).
};

// What the recommendations are made from (also part of `report`).
struct Findings {
  DatabaseState state;
  std::vector<BackupInfo> backups;
  // File -> why: applied files that changed or disappeared since.
  std::vector<std::pair<std::string, std::string>> changed_files;
  std::optional<uint64_t> free_disk_bytes;
  std::optional<uint64_t> total_disk_bytes;
  absl::Time now;
};

// Gathers the findings through `migrator` (read-only).
absl::StatusOr<Findings> Gather(const Migrator& migrator,
                                const MigrationRegistry& registry,
                                const std::string& db_path);

// Backups older than this are worth pruning (beyond the newest).
inline constexpr absl::Duration kOldBackupAge = absl::Hours(24 * 30);

std::vector<Recommendation> Recommend(const CommandContext& ctx,
                                      const Findings& findings);

Json RecommendationToJson(const Recommendation& r);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_RECOMMENDATIONS_H_
