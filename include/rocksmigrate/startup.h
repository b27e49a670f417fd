// The one call a server makes on startup.
#ifndef ROCKSMIGRATE_STARTUP_H_
#define ROCKSMIGRATE_STARTUP_H_

#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

// Brings `db` (the server's open database, a rocksdb::DB or TransactionDB)
// to the newest version in `registry`: finishes a run a crash left, applies
// the pending steps, stamps an empty database. Opens and closes nothing.
//
// Returns OK when the server may start. Otherwise a Status that says why it
// must not: FailedPrecondition (the stored schema is newer than this binary
// supports), Aborted (an item error; the failed step was restored and the
// message names the key), InvalidArgument (the registered migrations have a
// gap), Unavailable (another migrator holds the database), or an I/O error.
//
// Example:
//   MigrationRegistry registry;
//   RM_RETURN_IF_ERROR(registry.Register(std::make_unique<TaskV1ToV2>()));
//   absl::Status s = MigrateOnStartup(db, registry);
//   if (!s.ok()) { LOG(ERROR) << s; return 1; }
absl::Status MigrateOnStartup(rocksdb::DB* db,
                              const MigrationRegistry& registry,
                              MigratorOptions options = {});

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_STARTUP_H_
