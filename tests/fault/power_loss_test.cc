// Scenario 2: power loss. The fault file system dies after a seeded random
// number of write/sync operations; everything not synced is dropped; the
// database is reopened. Synced commits survive, unsynced work is wholly
// absent, and the run resumes. Also: the fault file system and the
// invariant checker themselves can fail.
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksdb/env.h"
#include "rocksmigrate/migrator.h"
#include "src/fault_point.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/fault_fs.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::FaultFs;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::TempDir;

struct FsEnv {
  std::shared_ptr<FaultFs> fs =
      std::make_shared<FaultFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
};

std::unique_ptr<FaultDb> OpenWith(const std::string& path, rocksdb::Env* env) {
  OpenOptions o;
  o.env = env;
  o.create_if_missing = false;
  auto db = FaultDb::Open(path, o);
  EXPECT_THAT(db, IsOk());
  return db.ok() ? std::move(*db) : nullptr;
}

TEST(FaultFsTest, PowerLossDropsUnsyncedWritesAndKeepsSyncedOnes) {
  TempDir dir;
  FsEnv e;
  const std::string path = dir.Sub("db");
  {
    OpenOptions o;
    o.env = e.env.get();
    auto db = FaultDb::Open(path, o);
    ASSERT_THAT(db, IsOk());
    rocksdb::WriteOptions synced;
    synced.sync = true;
    ASSERT_TRUE((*db)->db()->Put(synced, "a", "synced").ok());
    ASSERT_TRUE((*db)->db()->Put(rocksdb::WriteOptions(), "b", "unsynced").ok());
    e.fs->SetActive(false);  // The machine dies; the close writes nothing.
  }
  ASSERT_TRUE(e.fs->DropUnsyncedData().ok());
  e.fs->SetActive(true);
  Dump d = ReadDb(path);
  EXPECT_EQ(d, (Dump{{"a", "synced"}}));
}

TEST(FaultFsTest, InjectsTheNthWriteAndCountsIt) {
  TempDir dir;
  FsEnv e;
  OpenOptions o;
  o.env = e.env.get();
  auto db = FaultDb::Open(dir.Sub("db"), o);
  ASSERT_THAT(db, IsOk());
  rocksdb::WriteOptions synced;
  synced.sync = true;
  e.fs->Inject({FaultFs::Op::kWrite, 2, false,
                rocksdb::IOStatus::IOError("boom")});
  ASSERT_TRUE((*db)->db()->Put(synced, "a", "1").ok());
  rocksdb::Status s = (*db)->db()->Put(synced, "b", "2");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(e.fs->injected_failures(), 1);
}

TEST(InvariantCheckerTest, DetectsTamperedRecordsBackupsAndVersion) {
  Dump v1 = MakeDataset(7);
  Model model(v1);
  TempDir dir;
  CreateDb(dir.Sub("db"), v1);
  {
    auto db = FaultDb::Open(dir.Sub("db"));
    ASSERT_THAT(db, IsOk());
    auto registry = MakeRegistry();
    auto m = Migrator::Create((*db)->db(), registry.get());
    ASSERT_THAT(m, IsOk());
    ASSERT_THAT((*m)->Migrate(3), IsOk());
  }
  Dump good = ReadDb(dir.Sub("db"));
  ASSERT_EQ(CheckInvariant(good, model), "");
  Dump bad = good;
  bad["task:000001"] += "x";
  EXPECT_NE(CheckInvariant(bad, model), "");
  bad = good;
  bad["_schema_version"] = "2";
  EXPECT_NE(CheckInvariant(bad, model), "");
  bad = good;
  for (auto it = bad.begin(); it != bad.end(); ++it) {
    if (it->first.rfind("_backup_", 0) == 0 &&
        it->first.find(':') != std::string::npos) {
      bad.erase(it);  // A migrated record loses its backup.
      break;
    }
  }
  EXPECT_NE(CheckInvariant(bad, model), "");
}

// src/step_runner.cc: how many committed batches may wait for their WAL
// sync (the group commit); a power loss may undo at most these.
constexpr uint64_t kUnsyncedBatches = 4;
constexpr uint64_t kBatchItems = 9;

// One campaign: migrate to the newest version, then roll back to 1, each
// under repeated power losses at random operation counts.
void PowerLossCampaign(uint64_t seed, int losses_wanted, int* losses) {
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string path = dir.Sub("db");
  DatasetSpec spec;
  spec.tasks = 150;
  spec.notes = 60;
  Dump v1 = MakeDataset(rng(), spec);
  Model model(v1);
  CreateDb(path, v1);
  FsEnv e;

  // Calibrate: how many write/sync operations a full run takes.
  int run_ops;
  {
    TempDir cal;
    CreateDb(cal.Sub("db"), v1);
    FsEnv c;
    auto db = OpenWith(cal.Sub("db"), c.env.get());
    ASSERT_NE(db, nullptr);
    c.fs->Inject({FaultFs::Op::kRead, 1 << 30, false, {}});  // Counts only.
    auto registry = MakeRegistry();
    MigratorOptions mo;
    mo.batch_items = kBatchItems;
    auto m = Migrator::Create(db->db(), registry.get(), mo);
    ASSERT_THAT((*m)->Migrate(), IsOk());
    run_ops = c.fs->ops(FaultFs::Op::kWrite) + c.fs->ops(FaultFs::Op::kSync);
  }
  ASSERT_GT(run_ops, 10);

  for (int phase = 0; phase < 2; ++phase) {
    const bool up = phase == 0;
    for (int attempt = 0;; ++attempt) {
      ASSERT_LT(attempt, 60) << "the run never finished";
      auto db = OpenWith(path, e.env.get());
      ASSERT_NE(db, nullptr);
      auto registry = MakeRegistry();
      MigratorOptions mo;
      mo.batch_items = kBatchItems;
      // The last commit the engine saw succeed: its cursor must survive.
      std::string last_cursor;
      TEST_SetFaultPointCallback("after_commit", [&] {
        std::string v;
        if (db->db()->Get(rocksdb::ReadOptions(), "_migration_progress", &v)
                .ok()) {
          last_cursor = v;
        }
      });
      auto m = Migrator::Create(db->db(), registry.get(), mo);
      ASSERT_THAT(m, IsOk());
      const bool crash = rng() % 5 != 0 || attempt == 0;
      if (crash) e.fs->CrashAfterOps(1 + static_cast<int>(rng() % run_ops));
      absl::Status s = up ? (*m)->Migrate().status()
                          : (*m)->Rollback(1).status();
      TEST_SetFaultPointCallback("after_commit", nullptr);
      const bool died = !e.fs->active();
      m->reset();
      if (died) {
        db.reset();  // Closing writes nothing: the machine is off.
        ASSERT_TRUE(e.fs->DropUnsyncedData().ok());
        e.fs->SetActive(true);
        ++*losses;
        Dump all = ReadDb(path);
        if (s.ok()) {
          // The disk died after the run's last durable commit (in the lease
          // release or a background job): the success must be on disk.
          EXPECT_EQ(StoredVersion(all), up ? kNewest : 1)
              << "a run reported success that a power loss undid";
          EXPECT_FALSE(InFlight(all));
        }
        ASSERT_EQ(CheckInvariant(all, model), "")
            << "after power loss (seed " << seed << ", attempt " << attempt
            << ")";
        // Synced commits survive: the last cursor the engine committed is
        // there, or the step moved on past it.
        if (!last_cursor.empty()) {
          auto cur = all.find("_migration_progress");
          auto j = nlohmann::json::parse(last_cursor);
          const int from = j["from"].get<int>();
          if (cur != all.end() && cur->second != last_cursor) {
            auto now = nlohmann::json::parse(cur->second);
            const bool later_step = up ? now["from"].get<int>() > from
                                       : now["from"].get<int>() < from;
            const bool same_state = now["state"] == j["state"];
            if (!later_step && same_state) {
              // Batches are group-committed: at most kUnsyncedBatches
              // acknowledged batches may still wait for their WAL sync.
              const uint64_t now_items = now["items_migrated"].get<uint64_t>() +
                                         now["items_skipped"].get<uint64_t>() +
                                         now["items_restored"].get<uint64_t>();
              const uint64_t then_items = j["items_migrated"].get<uint64_t>() +
                                          j["items_skipped"].get<uint64_t>() +
                                          j["items_restored"].get<uint64_t>();
              EXPECT_GE(now_items + kUnsyncedBatches * kBatchItems, then_items)
                  << "more than " << kUnsyncedBatches
                  << " acknowledged batches were lost";
            }
          } else if (cur == all.end()) {
            const int v = StoredVersion(all);
            EXPECT_TRUE(up ? v > from : v <= from)
                << "a synced commit was lost: cursor " << last_cursor
                << " gone but version " << v;
          }
        }
        // The loss came after the phase's last durable commit: done (a
        // rollback would now be refused, having nothing to undo).
        if (StoredVersion(all) == (up ? kNewest : 1) && !InFlight(all)) break;
        continue;
      }
      e.fs->CrashAfterOps(0);
      db.reset();
      ASSERT_THAT(s, IsOk()) << "seed " << seed;
      Dump all = ReadDb(path);
      EXPECT_EQ(StoredVersion(all), up ? kNewest : 1);
      EXPECT_FALSE(InFlight(all));
      ASSERT_EQ(CheckInvariant(all, model), "");
      break;
    }
  }
  (void)losses_wanted;
}

TEST(PowerLossTest, SyncedCommitsSurviveUnsyncedWorkIsAbsentRunResumes) {
  const int wanted = LongCampaign() ? 200 : 30;
  int losses = 0;
  for (int i = 0; losses < wanted; ++i) {
    ASSERT_LT(i, 100);
    PowerLossCampaign(TestSeed(200 + i), wanted, &losses);
    if (HasFatalFailure()) return;
  }
  std::fprintf(stderr, "[fault] %d power losses\n", losses);
}

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
