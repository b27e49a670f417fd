// Registers a migration and migrates a fresh database through the installed
// package, online (a read through the UpgradingReader while the backfill
// runs); exits 0 only if the read and the rewritten record are at v2.
#include <cstdio>
#include <memory>
#include <string>

#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/startup.h"
#include "rocksmigrate/upgrading_reader.h"

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
  // The online startup: serve at once, read through the UpgradingReader.
  rocksmigrate::StartupOptions startup;
  startup.foreground_budget = absl::ZeroDuration();
  startup.when_budget_runs_out =
      rocksmigrate::StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
  auto migration = rocksmigrate::MigrateOnStartup(db.get(), registry, {}, startup);
  if (!migration.ok()) return 1;
  auto reader = rocksmigrate::UpgradingReader::Create(db.get(), &registry);
  if (!reader.ok()) return 1;
  const std::string want = R"({"schema_version":2,"done":false})";
  absl::StatusOr<std::string> read = (*reader)->Get("item:1");
  if (!read.ok() || *read != want) return 1;
  if (!(*migration)->Wait().ok()) return 1;
  std::string value;
  if (!db->Get({}, "item:1", &value).ok()) return 1;
  std::printf("%s\n", value.c_str());
  return value == want ? 0 : 1;
}
