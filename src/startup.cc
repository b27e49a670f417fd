#include "rocksmigrate/startup.h"

#include "absl/strings/str_cat.h"

namespace rocksmigrate {

absl::Status MigrateOnStartup(rocksdb::DB* db,
                              const MigrationRegistry& registry,
                              MigratorOptions options) {
  auto migrator = Migrator::Create(db, &registry, std::move(options));
  if (!migrator.ok()) return migrator.status();
  auto report = (*migrator)->Migrate();
  if (!report.ok()) {
    return absl::Status(
        report.status().code(),
        absl::StrCat("rocksmigrate: the database cannot be brought to the "
                     "schema this server needs: ",
                     report.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace rocksmigrate
