// Scenario 7: a live server writes the migrated prefix during the run,
// through the same TransactionDB, with MigratorOptions::concurrent_writers.
// No update is lost: a record the server wrote holds either the server's
// last value migrated (the write came first) or that value as written (it
// came after); an untouched record is migrated. Lock timeouts are retried,
// and reported when they persist.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksmigrate/migrator.h"
#include "src/fault_point.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;

std::optional<std::string> Migrated(const TagMigration& m,
                                    const std::string& key,
                                    const std::string& value) {
  auto r = m.Migrate(key, value);
  EXPECT_TRUE(r.ok());
  if (r->kind() == ItemResult::Kind::kDelete) return std::nullopt;
  if (r->kind() == ItemResult::Kind::kKeep) return value;
  return r->value();
}

TEST(LiveWriterTest, NoConcurrentUpdateIsLost) {
  const uint64_t seed = TestSeed(700);
  const int rounds = LongCampaign() ? 20 : 3;
  TagMigration step(1, "task:", /*deletes=*/true);
  for (int round = 0; round < rounds; ++round) {
    TempDir dir;
    DatasetSpec spec;
    spec.tasks = 600;
    spec.notes = 0;
    spec.others = 20;
    Dump v1 = MakeDataset(seed + round, spec);
    CreateDb(dir.Sub("db"), v1);
    OpenOptions o;
    o.lock_timeout_ms = 50;
    auto db = FaultDb::Open(dir.Sub("db"), o);
    ASSERT_THAT(db, IsOk());
    rocksdb::TransactionDB* tdb = (*db)->db();

    std::mutex mu;
    std::map<std::string, std::optional<std::string>> last;  // nullopt: deleted
    std::atomic<bool> stop{false};
    std::atomic<int> writes{0}, timeouts{0};
    std::thread server([&] {
      std::mt19937_64 rng(seed * 31 + round);
      int n = 0;
      while (!stop.load()) {
        const int i = static_cast<int>(rng() % (spec.tasks + 50));
        const std::string key = absl::StrFormat("task:%06d", i);
        const int kind = static_cast<int>(rng() % 10);
        std::optional<std::string> value;
        if (kind < 6) {
          value = absl::StrFormat("v1|server %d", n++);  // An old server.
        } else if (kind < 9) {
          value = absl::StrFormat("v2|server %d", n++);  // A new server.
        }
        std::unique_ptr<rocksdb::Transaction> txn(
            tdb->BeginTransaction(rocksdb::WriteOptions()));
        std::string current;
        rocksdb::Status s = txn->GetForUpdate(rocksdb::ReadOptions(), key,
                                              &current);
        if (s.ok() || s.IsNotFound()) {
          s = value ? txn->Put(key, *value) : txn->Delete(key);
        }
        if (s.ok()) {
          std::lock_guard<std::mutex> lock(mu);  // Commit order = map order.
          s = txn->Commit();
          if (s.ok()) last[key] = value;
        }
        if (!s.ok()) {
          ASSERT_TRUE(s.IsBusy() || s.IsTimedOut()) << s.ToString();
          ++timeouts;
          txn->Rollback().PermitUncheckedError();
          continue;
        }
        ++writes;
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    auto registry = MakeRegistry();
    MigratorOptions mo;
    mo.concurrent_writers = true;
    mo.batch_items = 13;
    auto m = Migrator::Create(tdb, registry.get(), mo);
    ASSERT_THAT(m, IsOk());
    auto r = (*m)->Migrate(2);
    stop.store(true);
    server.join();
    ASSERT_THAT(r, IsOk());
    ASSERT_GT(writes.load(), 0);

    const Dump all = (*db)->DumpAll();
    EXPECT_EQ(StoredVersion(all), 2);
    int migrated_server_writes = 0, kept_server_writes = 0;
    for (const auto& [k, v] : v1) {
      if (last.count(k)) continue;
      auto it = all.find(k);
      std::optional<std::string> got;
      if (it != all.end()) got = it->second;
      const bool in_step = k.rfind("task:", 0) == 0;
      EXPECT_EQ(got, in_step ? Migrated(step, k, v)
                             : std::optional<std::string>(v))
          << k << " untouched by the server";
    }
    for (const auto& [k, w] : last) {
      auto it = all.find(k);
      std::optional<std::string> got;
      if (it != all.end()) got = it->second;
      std::optional<std::string> after =
          w ? Migrated(step, k, *w) : std::nullopt;
      EXPECT_TRUE(got == w || got == after)
          << k << ": the server's last write "
          << (w ? *w : std::string("(delete)")) << " was lost; holds "
          << (got ? *got : std::string("(absent)"));
      if (got != w) ++migrated_server_writes;
      if (got == w && w != after) ++kept_server_writes;
    }
    // Every backup holds a value the record had before it was migrated.
    std::fprintf(stderr,
                 "[fault] live writer round %d: %d server writes (%d lock "
                 "timeouts), %d migrated after, %d kept as written\n",
                 round, writes.load(), timeouts.load(), migrated_server_writes,
                 kept_server_writes);
  }
}

TEST(LiveWriterTest, PersistentLockTimeoutIsReportedAndResumable) {
  TempDir dir;
  Dump v1 = MakeDataset(TestSeed(701));
  Model model(v1);
  CreateDb(dir.Sub("db"), v1);
  OpenOptions o;
  o.lock_timeout_ms = 20;
  auto db = FaultDb::Open(dir.Sub("db"), o);
  ASSERT_THAT(db, IsOk());
  rocksdb::TransactionDB* tdb = (*db)->db();
  // The server holds a lock on one record for the whole run.
  const std::string held = "task:000100";
  std::unique_ptr<rocksdb::Transaction> txn(
      tdb->BeginTransaction(rocksdb::WriteOptions()));
  std::string ignored;
  ASSERT_TRUE(txn->GetForUpdate(rocksdb::ReadOptions(), held, &ignored).ok());
  auto registry = MakeRegistry();
  MigratorOptions mo;
  mo.concurrent_writers = true;
  mo.batch_items = 10;
  auto m = Migrator::Create(tdb, registry.get(), mo);
  ASSERT_THAT(m, IsOk());
  auto r = (*m)->Migrate();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The message names the batch's key and says the locks timed out.
  EXPECT_NE(r.status().message().find("task:000"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("lock"), std::string::npos)
      << r.status();
  Dump all = (*db)->DumpAll();
  EXPECT_EQ(CheckInvariant(all, model), "");
  EXPECT_TRUE(InFlight(all));
  ASSERT_TRUE(txn->Rollback().ok());  // The server lets go.
  ASSERT_THAT((*m)->Migrate(), IsOk());
  all = (*db)->DumpAll();
  EXPECT_EQ(StoredVersion(all), kNewest);
  EXPECT_EQ(CheckInvariant(all, model), "");
}

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
