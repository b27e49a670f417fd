// MigrateOnStartup: the one call a server makes, on a plain rocksdb::DB and
// on a TransactionDB.
#include "rocksmigrate/startup.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::AppendFailingAt;
using ::rocksmigrate::testing::AppendStoppingAt;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::EraseHistory;
using ::rocksmigrate::testing::RawHistory;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;

const Dump kRecords = {{"task:1", R"({"id":1})"},
                       {"task:2", R"({"id":2,"schema_version":1})"},
                       {"note:1", "n"},
                       {"other", "o"}};
const Dump kMigrated = {{"task:1", R"({"id":1,"a":1,"schema_version":3,"b":2})"},
                        {"task:2", R"({"id":2,"schema_version":3,"a":1,"b":2})"},
                        {"note:1", "n+"},
                        {"other", "o"}};

void RegisterChain(MigrationRegistry* r) {
  ASSERT_THAT(r->Register(std::make_unique<AddField>(1, "task:", "a", 1)),
              IsOk());
  ASSERT_THAT(r->Register(Append(1, "note:", "+")), IsOk());
  ASSERT_THAT(r->Register(std::make_unique<AddField>(2, "task:", "b", 2)),
              IsOk());
}

// A plain rocksdb::DB, as a server without transactions opens it.
std::unique_ptr<rocksdb::DB> OpenPlain(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(raw);
}

Dump DumpDb(rocksdb::DB* db) {
  Dump out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out[it->key().ToString()] = it->value().ToString();
  }
  return out;
}

Dump User(const Dump& all) {
  Dump out;
  for (const auto& [k, v] : all) {
    if (k[0] != '_') out[k] = v;
  }
  return out;
}

TEST(StartupTest, MigratesAPlainRocksDb) {
  TempDir dir;
  auto db = OpenPlain(dir.Sub("db"));
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : kRecords) wb.Put(k, v);
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
  MigrationRegistry r;
  RegisterChain(&r);
  ASSERT_THAT(MigrateOnStartup(db.get(), r, SmallBatches(1)), IsOk());
  Dump all = DumpDb(db.get());
  EXPECT_EQ(User(all), kMigrated) << DescribeDiff(kMigrated, User(all));
  EXPECT_EQ(all.at("_schema_version"), "3");
  EXPECT_EQ(all.count("_migration_progress"), 0u);
  EXPECT_EQ(all.count("_migration_lock"), 0u);
  // Twice: nothing more happens.
  ASSERT_THAT(MigrateOnStartup(db.get(), r), IsOk());
  EXPECT_EQ(DumpDb(db.get()), all);
  // Item errors restore on a plain DB too, and rollback works.
  auto m = MakeMigrator(db.get(), &r);
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(User(DumpDb(db.get())), kRecords);
}

TEST(StartupTest, MigratesATransactionDb) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  RegisterChain(&r);
  ASSERT_THAT(MigrateOnStartup(db->db(), r), IsOk());
  EXPECT_EQ(db->DumpUser(), kMigrated);
  const Dump all = db->DumpAll();
  EXPECT_EQ(all.at("_schema_version"), "3");
  // Two backups (one per step) hold the bytes before each step.
  EXPECT_EQ(WithPrefix(all, "_backup_").size(), 2u + 3u + 2u);
}

TEST(StartupTest, StampsAnEmptyDatabase) {
  TempDir dir;
  auto db = OpenPlain(dir.Sub("db"));
  MigrationRegistry r;
  RegisterChain(&r);
  ASSERT_THAT(MigrateOnStartup(db.get(), r), IsOk());
  Dump all = DumpDb(db.get());
  EXPECT_EQ(RawHistory(all).at(0)["status"], "stamped");
  EraseHistory(&all);
  EXPECT_EQ(all, (Dump{{"_schema_version", "3"}}));
}

TEST(StartupTest, RefusesANewerSchemaWithoutWriting) {
  TempDir dir;
  auto db = OpenPlain(dir.Sub("db"));
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "_schema_version", "7").ok());
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "task:1", "{}").ok());
  const Dump before = DumpDb(db.get());
  MigrationRegistry r;
  RegisterChain(&r);
  absl::Status s = MigrateOnStartup(db.get(), r);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.message()), HasSubstr("newer than this binary"));
  EXPECT_EQ(DumpDb(db.get()), before);
}

TEST(StartupTest, AnItemErrorKeepsTheServerFromStartingAndRestores) {
  TempDir dir;
  auto db = OpenPlain(dir.Sub("db"));
  rocksdb::WriteBatch wb;
  for (int i = 0; i < 6; ++i) wb.Put(absl::StrFormat("task:%d", i), "v");
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
  const Dump before = DumpDb(db.get());
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendFailingAt(1, "task:", "+", "task:4")), IsOk());
  absl::Status s = MigrateOnStartup(db.get(), r, SmallBatches(2));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(s.message()), HasSubstr("task:4"));
  EXPECT_EQ(User(DumpDb(db.get())), User(before));
  EXPECT_EQ(DumpDb(db.get()).count("_schema_version"), 0u);
}

TEST(StartupTest, GapInTheRegistryIsInvalidArgument) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(kRecords);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(2, "note:", "+")), IsOk());
  const Dump before = db->DumpAll();
  EXPECT_THAT(MigrateOnStartup(db->db(), r),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(StartupTest, FinishesARunThatWasStopped) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 9; ++i) records[absl::StrFormat("note:%d", i)] = "n";
  db->Put(records);
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  ASSERT_THAT(r.Register(AppendStoppingAt(1, "note:", "+", "note:1", &stop)),
              IsOk());
  MigratorOptions o = SmallBatches(2);
  o.stop_requested = &stop;
  EXPECT_THAT(MigrateOnStartup(db->db(), r, o),
              StatusIs(absl::StatusCode::kCancelled));
  stop = false;  // The next start is not asked to stop.
  std::atomic<bool> never{false};
  o.stop_requested = &never;
  ASSERT_THAT(MigrateOnStartup(db->db(), r, o), IsOk());
  Dump expected = records;
  for (auto& [k, v] : expected) v += "+";
  EXPECT_EQ(db->DumpUser(), expected) << DescribeDiff(expected, db->DumpUser());
}

}  // namespace
}  // namespace rocksmigrate
