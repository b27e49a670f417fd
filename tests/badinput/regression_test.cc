// Regressions of the trust-at-the-edges campaign that live in the library:
// the environment cannot arm a fault point, options are refused before
// anything is written, the history scales, and an old database's history
// and manifests are read as they are and converted once.
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/startup.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;

Dump Tasks(int n, int version) {
  Dump d;
  for (int i = 0; i < n; ++i) {
    d[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":%d})", i, version);
  }
  return d;
}

// A stray RM_FAULT_POINT used to make a server kill itself: only test
// programs arm fault points from the environment now.
TEST(RegressionTest, TheLibraryIgnoresTheFaultPointVariable) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(10, 1));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)), IsOk());
  ::setenv("RM_FAULT_POINT", "before_commit:1", 1);
  absl::Status s = MigrateOnStartup(db->db(), r, SmallBatches(3));
  ::unsetenv("RM_FAULT_POINT");
  EXPECT_THAT(s, IsOk());  // And this process is alive to say so.
}

// concurrent_writers on a plain DB used to be refused only after the
// step's cursor and manifest were committed.
TEST(RegressionTest, OptionsThatCannotWorkAreRefusedByCreate) {
  TempDir dir;
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir.Sub("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "task:1", "{}").ok());
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)), IsOk());
  MigratorOptions concurrent;
  concurrent.concurrent_writers = true;
  auto m = Migrator::Create(db.get(), &r, concurrent);
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("TransactionDB"));
  EXPECT_THAT(MigrateOnStartup(db.get(), r, concurrent),
              StatusIs(absl::StatusCode::kInvalidArgument));
  MigratorOptions threads;
  threads.threads = -1;
  EXPECT_THAT(Migrator::Create(db.get(), &r, threads),
              StatusIs(absl::StatusCode::kInvalidArgument));
  MigratorOptions wait;
  wait.lock_wait = absl::Seconds(-1);
  EXPECT_THAT(Migrator::Create(db.get(), &r, wait),
              StatusIs(absl::StatusCode::kInvalidArgument));
  MigratorOptions null_cf;
  null_cf.column_families = {nullptr};
  EXPECT_THAT(Migrator::Create(db.get(), &r, null_cf),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Nothing was written.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  int keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++keys;
  EXPECT_EQ(keys, 1);
}

// The history used to be one JSON array rewritten whole at every step end.
// Now a step end writes one entry and the header: the 5,000 entries before
// it keep their bytes, and the newest few are read without the others.
TEST(RegressionTest, AStepEndWritesOneHistoryEntryWhateverTheHistoryLength) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(5, 1));
  constexpr int kOld = 5000;
  nlohmann::json entries = nlohmann::json::array();
  for (int i = 0; i < kOld; ++i) {
    entries.push_back({{"run_id", absl::StrCat("old-", i)}, {"from", 1},
                       {"to", 2}, {"migrations", {"add_x_v2"}},
                       {"status", "failed"}, {"items_migrated", 0},
                       {"items_skipped", 0}, {"started_at", "2026-01-01T00:00:00.000Z"},
                       {"duration_ms", 1}, {"backup_id", nullptr},
                       {"error", "an old failure"}, {"checksums", nlohmann::json::object()}});
  }
  Dump history;
  SetHistory(&history, entries);
  db->Put(history);
  const Dump before = db->DumpAll();
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->history_total, static_cast<uint64_t>(kOld));
  ASSERT_EQ(state->recent_history.size(), 5u);
  EXPECT_EQ(state->recent_history.back().run_id, absl::StrCat("old-", kOld - 1));
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump after = db->DumpAll();
  for (int i = 1; i <= kOld; ++i) {
    const std::string key = absl::StrFormat("_migration_history:%020d", i);
    ASSERT_EQ(after.at(key), before.at(key)) << key;
  }
  const std::string newest = absl::StrFormat("_migration_history:%020d", kOld + 1);
  ASSERT_EQ(after.count(newest), 1u);
  EXPECT_EQ(nlohmann::json::parse(after.at(newest))["status"], "success");
  EXPECT_EQ(nlohmann::json::parse(after.at("_migration_history"))["count"],
            kOld + 1);
  auto recent = m->RecentHistory(2);
  ASSERT_THAT(recent, IsOk());
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[1].status, StepStatus::kSuccess);
  EXPECT_EQ((*recent)[1].sequence, static_cast<uint64_t>(kOld + 1));
}

// A database written before the keyed history: its history is one JSON
// array and its manifests name their prefixes as text. Both are read as
// they are; the first writing call converts the history in one write, and
// the old step still rolls back from its backup.
TEST(RegressionTest, AnOldFormatHistoryAndManifestAreReadAndConvertedOnce) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put(Tasks(6, 1));
  const Dump v1 = db->DumpUser();
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)), IsOk());
  ASSERT_THAT(r.Register(std::make_unique<AddField>(2, "task:", "y", 2)), IsOk());
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  ASSERT_THAT(MakeMigrator(db->db(), &r, o)->Migrate(2), IsOk());
  // Rewrite the bookkeeping as the earlier version wrote it.
  Dump all = db->DumpAll();
  nlohmann::json legacy = nlohmann::json::array();
  for (nlohmann::json e : RawHistory(all)) {
    e.erase("items_ahead");
    e.erase("backup_column_family");
    e.erase("empty_prefixes_hex");
    legacy.push_back(e);
  }
  for (const auto& [k, v] : all) {
    if (IsHistoryKey(k)) db->Delete(k);
  }
  db->Put("_migration_history", legacy.dump());
  const std::string manifest_key = "_backup_20261127_050102";
  nlohmann::json manifest = nlohmann::json::parse(all.at(manifest_key));
  manifest.erase("prefixes_hex");
  manifest["prefixes"] = {"task:"};
  db->Put(manifest_key, manifest.dump());

  auto m = MakeMigrator(db->db(), &r, o);
  auto history = m->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].status, StepStatus::kSuccess);
  auto backups = m->ListBackups();
  ASSERT_THAT(backups, IsOk());
  ASSERT_EQ(backups->size(), 1u);
  EXPECT_THAT((*backups)[0].prefixes, ::testing::ElementsAre("task:"));
  // The first write converts; the entries keep their content.
  ASSERT_THAT(m->Migrate(), IsOk());
  all = db->DumpAll();
  EXPECT_EQ(nlohmann::json::parse(all.at("_migration_history"))["count"], 2);
  nlohmann::json converted = RawHistory(all);
  ASSERT_EQ(converted.size(), 2u);
  EXPECT_EQ(converted[0]["run_id"], legacy[0]["run_id"]);
  EXPECT_EQ(converted[0]["started_at"], legacy[0]["started_at"]);
  // And both steps roll back, the old one from its old-format manifest.
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpUser(), v1);
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
