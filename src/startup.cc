#include "rocksmigrate/startup.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace rocksmigrate {

absl::Status MigrateOnStartup(rocksdb::DB* db,
                              const MigrationRegistry& registry,
                              MigratorOptions options) {
  auto migrator = Migrator::Create(db, &registry, std::move(options));
  if (!migrator.ok()) return migrator.status();
  auto report = (*migrator)->Migrate();
  if (!report.ok()) {
    absl::Status s(report.status().code(),
                   absl::StrCat("rocksmigrate: the database cannot be brought "
                                "to the schema this server needs: ",
                                report.status().message()));
    // Keep what the status is about (SubjectOf) for the server's own hints.
    report.status().ForEachPayload(
        [&s](absl::string_view url, const absl::Cord& payload) {
          s.SetPayload(url, payload);
        });
    return s;
  }
  return absl::OkStatus();
}

}  // namespace rocksmigrate
