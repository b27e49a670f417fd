// A server's startup, as the README shows it: open the database, register
// the migrations this binary knows, and migrate before serving anything.
//
//   server_startup DB_PATH [--seed N]
//
// With --seed N, first writes N v1 task records (so the example has
// something to migrate). Exits 1 with the reason when the server must not
// start.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "examples/task_v1_to_v2.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/startup.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB_PATH [--seed N]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      options, rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "error: cannot open %s: %s\n", path.c_str(),
                 s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);

  if (argc == 4 && std::strcmp(argv[2], "--seed") == 0) {
    rocksdb::WriteBatch batch;
    for (long i = 0, n = std::atol(argv[3]); i < n; ++i) {
      char key[32];
      std::snprintf(key, sizeof(key), "task:%08ld", i);
      batch.Put(key, std::string("{\"id\":") + std::to_string(i) +
                         ",\"title\":\"task\",\"schema_version\":1}");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Write(wo, &batch);
    if (!s.ok()) return 1;
  }

  // --- What a server adds on startup: ---
  rocksmigrate::MigrationRegistry registry;
  absl::Status status =
      registry.Register(std::make_unique<example::TaskV1ToV2>());
  if (status.ok()) status = rocksmigrate::MigrateOnStartup(db.get(), registry);
  if (!status.ok()) {
    std::fprintf(stderr, "error: not starting: %s\n", status.ToString().c_str());
    return 1;
  }
  // --- The server would now serve requests. ---

  std::string version;
  db->Get(rocksdb::ReadOptions(), "_schema_version", &version)
      .PermitUncheckedError();
  std::printf("database %s is at schema v%s; serving\n", path.c_str(),
              version.c_str());
  return 0;
}
