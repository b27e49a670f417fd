// Registers a migration and migrates a fresh database through the installed
// package; exits 0 only if the record was rewritten.
#include <cstdio>
#include <memory>
#include <string>

#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/startup.h"

namespace {
class AddDone : public rocksmigrate::JsonMigration {
 public:
  AddDone() : JsonMigration(1, 2, "add_done", "item:") {}
  absl::Status Transform(std::string_view, rocksmigrate::Json& r) const override {
    r["done"] = false;
    return absl::OkStatus();
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::TransactionDB* raw = nullptr;
  if (!rocksdb::TransactionDB::Open(options, {}, argv[1], &raw).ok()) return 1;
  std::unique_ptr<rocksdb::TransactionDB> db(raw);
  if (!db->Put({}, "item:1", R"({"schema_version":1})").ok()) return 1;
  rocksmigrate::MigrationRegistry registry;
  if (!registry.Register(std::make_unique<AddDone>()).ok()) return 1;
  absl::Status s = rocksmigrate::MigrateOnStartup(db.get(), registry);
  std::string value;
  if (!s.ok() || !db->Get({}, "item:1", &value).ok()) return 1;
  std::printf("%s\n", value.c_str());
  return value == R"({"schema_version":2,"done":false})" ? 0 : 1;
}
