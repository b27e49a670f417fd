// Online (zero-downtime) steps: a live workload of reads, blind writes,
// read-modify-writes, deletes and inserts runs beside the background
// backfill, checked against a model; item errors with live writers; pause,
// resume, rate changes, the pause file, the busy callback and write-stall
// backoff; a JSON-file migration; a two-step chain; a down pass run online
// beside servers writing.
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksdb/utilities/transaction.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/pacing.h"
#include "rocksmigrate/startup.h"
#include "rocksmigrate/upgrading_reader.h"
#include "src/backup_store.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;
using Phase = MigrationSnapshot::Phase;

std::string TaskKey(int i) { return absl::StrFormat("task:%06d", i); }

// `count` v1 tasks (no schema_version) and as many notes (not migrated).
Dump V1Records(int count) {
  Dump d;
  for (int i = 0; i < count; ++i) {
    d[TaskKey(i)] = absl::StrCat(R"({"id":)", i, R"(,"n":0})");
    d[absl::StrCat("note:", i)] = absl::StrCat("note ", i);
  }
  return d;
}

// A v2 task as the server (new binary) writes it.
std::string ServerV2(int id, int n, int version = 2) {
  return absl::StrCat(R"({"id":)", id, R"(,"n":)", n,
                      R"(,"done":true,"schema_version":)", version, "}");
}

// Backfill options: small batches, so that the workload meets it often.
MigratorOptions OnlineOptions() {
  MigratorOptions o;
  o.batch_items = 50;
  o.threads = 1;
  return o;
}

StartupOptions Background(uint64_t records_per_second) {
  StartupOptions s;
  s.foreground_budget = absl::ZeroDuration();
  s.when_budget_runs_out = StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
  s.pacing.records_per_second = records_per_second;
  s.pacing.poll_interval = absl::Milliseconds(10);
  return s;
}

// The live workload and its model. Each thread owns the keys i with
// i % threads == t, so the model of a key is exact; reads of any key check
// the version only.
class Workload {
 public:
  Workload(rocksdb::TransactionDB* db, const UpgradingReader* reader,
           const Migration* m, const Dump& v1, int tasks, int threads)
      : db_(db), reader_(reader), tasks_(tasks), threads_(threads) {
    // What each untouched record must read as: the migration's own output.
    for (int i = 0; i < tasks; ++i) {
      const std::string key = TaskKey(i);
      absl::StatusOr<ItemResult> r = m->Migrate(key, v1.at(key));
      expected_v2_[key] = r.ok() && r->kind() == ItemResult::Kind::kWrite
                              ? r->value()
                              : v1.at(key);
    }
    models_.resize(threads);
  }

  void Start() {
    for (int t = 0; t < threads_; ++t) {
      workers_.emplace_back([this, t] { Run(t); });
    }
  }
  void StopAndJoin() {
    stop_ = true;
    for (std::thread& w : workers_) w.join();
  }

  // key -> bytes the server wrote (nullopt: deleted).
  std::map<std::string, std::optional<std::string>> Written() const {
    std::map<std::string, std::optional<std::string>> all;
    for (const auto& m : models_) all.insert(m.begin(), m.end());
    return all;
  }
  const std::map<std::string, std::string>& expected_v2() const {
    return expected_v2_;
  }
  uint64_t ops() const { return ops_.load(); }
  uint64_t stale_reads() const { return stale_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::string first_problem() const {
    std::lock_guard<std::mutex> l(mu_);
    return first_problem_;
  }

 private:
  void Problem(std::atomic<uint64_t>* counter, std::string what) {
    if ((*counter)++ == 0) {
      std::lock_guard<std::mutex> l(mu_);
      if (first_problem_.empty()) first_problem_ = std::move(what);
    }
  }

  // What a read of `key` must return now for thread `t`'s model.
  std::optional<std::string> Expect(int t, const std::string& key) const {
    auto it = models_[t].find(key);
    if (it != models_[t].end()) return it->second;
    auto e = expected_v2_.find(key);
    if (e != expected_v2_.end()) return e->second;
    return std::nullopt;
  }

  void CheckRead(int t, const std::string& key) {
    absl::StatusOr<std::string> got = reader_->Get(key);
    std::optional<std::string> want = Expect(t, key);
    if (!got.ok() && !absl::IsNotFound(got.status())) {
      Problem(&errors_, absl::StrCat("read ", key, ": ", got.status().ToString()));
      return;
    }
    std::optional<std::string> have =
        got.ok() ? std::optional<std::string>(*got) : std::nullopt;
    if (have != want) {
      Problem(&stale_, absl::StrCat("read ", key, " gave ",
                                    have.value_or("<absent>"), " where ",
                                    want.value_or("<absent>"), " was due"));
    }
  }

  void Run(int t) {
    std::mt19937 rng(1234 + t);
    int inserted = 0;
    auto& model = models_[t];
    while (!stop_) {
      int i = static_cast<int>(rng() % tasks_);
      i -= i % threads_;
      i += t;
      if (i >= tasks_) continue;
      const std::string key = TaskKey(i);
      const int op = static_cast<int>(rng() % 100);
      ++ops_;
      if (op < 50) {
        CheckRead(t, key);
      } else if (op < 65) {  // Blind write of a v2 record.
        std::string v = ServerV2(i, static_cast<int>(rng() % 1000));
        rocksdb::WriteOptions wo;
        rocksdb::Status s = db_->Put(wo, key, v);
        if (!s.ok()) {
          Problem(&errors_, s.ToString());
          continue;
        }
        model[key] = v;
      } else if (op < 85) {  // Read-modify-write in a transaction.
        std::unique_ptr<rocksdb::Transaction> txn(
            db_->BeginTransaction(rocksdb::WriteOptions()));
        std::string raw;
        rocksdb::Status s = txn->GetForUpdate(rocksdb::ReadOptions(), key, &raw);
        if (s.IsNotFound()) continue;
        if (!s.ok()) {
          Problem(&errors_, s.ToString());
          continue;
        }
        absl::StatusOr<std::optional<std::string>> up = reader_->Upgrade(key, raw);
        if (!up.ok() || !up->has_value()) {
          Problem(&errors_, absl::StrCat("upgrade ", key));
          continue;
        }
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(**up);
        if (j.value("schema_version", 0) != 2) {
          Problem(&stale_, absl::StrCat("upgrade of ", key, " gave ", **up));
        }
        j["n"] = j.value("n", 0) + 1;
        std::string v = j.dump();
        s = txn->Put(key, v);
        if (s.ok()) s = txn->Commit();
        if (!s.ok()) {
          if (!s.IsBusy() && !s.IsTimedOut()) Problem(&errors_, s.ToString());
          continue;
        }
        model[key] = v;
      } else if (op < 90) {  // Delete.
        rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), key);
        if (!s.ok()) {
          Problem(&errors_, s.ToString());
          continue;
        }
        model[key] = std::nullopt;
      } else if (op < 95) {  // Insert a new record.
        std::string k = absl::StrCat("task:new:", t, ":", inserted++);
        std::string v = ServerV2(1000000 + inserted, 0);
        rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), k, v);
        if (!s.ok()) {
          Problem(&errors_, s.ToString());
          continue;
        }
        model[k] = v;
      } else {  // A short scan: every record it shows is at v2.
        std::unique_ptr<UpgradingIterator> it =
            reader_->NewIterator(rocksdb::ReadOptions());
        int n = 0;
        for (it->Seek(key); it->Valid() && n < 20; it->Next(), ++n) {
          if (it->key().substr(0, 5) != "task:" ||
              it->key() >= TaskKey(tasks_)) {
            break;
          }
          if (it->value().find("\"schema_version\":2") == std::string::npos) {
            Problem(&stale_, absl::StrCat("scan of ", std::string(it->key()), " gave ",
                                          std::string(it->value())));
          }
        }
        if (!it->status().ok()) Problem(&errors_, it->status().ToString());
      }
    }
  }

  rocksdb::TransactionDB* db_;
  const UpgradingReader* reader_;
  const int tasks_;
  const int threads_;
  std::map<std::string, std::string> expected_v2_;
  std::vector<std::map<std::string, std::optional<std::string>>> models_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ops_{0}, stale_{0}, errors_{0};
  mutable std::mutex mu_;
  std::string first_problem_;
};

// The backup records of `id` (key -> original bytes).
Dump BackupOf(const Dump& all, const std::string& id) {
  Dump out;
  for (const auto& [k, v] : WithPrefix(all, id + ":")) {
    out[k.substr(id.size() + 1)] = v;
  }
  return out;
}

// The "task:" records of `all` are `base` with the server's writes on top.
void ExpectTasks(const Dump& all, Dump base,
                 const std::map<std::string, std::optional<std::string>>& written) {
  for (const auto& [k, v] : written) {
    if (v) {
      base[k] = *v;
    } else {
      base.erase(k);
    }
  }
  const Dump tasks = WithPrefix(all, "task:");
  EXPECT_EQ(tasks, base) << DescribeDiff(base, tasks);
}

std::vector<std::string> KeysOf(const Dump& d) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : d) keys.push_back(k);
  return keys;
}

// The keys of every digest block of backup `id`, in order.
std::vector<std::string> DigestedKeys(const Dump& all, const std::string& id) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : WithPrefix(all, id + "#")) {
    auto block = DecodeDigestBlock(v, k);
    EXPECT_TRUE(block.ok()) << block.status();
    if (!block.ok()) continue;
    EXPECT_EQ(k.substr(id.size() + 1), block->back().key);
    for (const DigestEntry& e : *block) keys.push_back(e.key);
  }
  return keys;
}

class OnlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDb::Open(dir_.Sub("db"));
    v1_ = V1Records(kTasks);
    db_->Put(v1_);
  }
  static constexpr int kTasks = 3000;
  TempDir dir_;
  std::unique_ptr<TestDb> db_;
  Dump v1_;
};

TEST_F(OnlineTest, LiveWorkloadLosesNoWriteAndReadsOnlyTheNewSchema) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  const Migration* m = registry.FindStep(1)->migrations[0];
  auto reader = UpgradingReader::Create(db_->db(), &registry);
  ASSERT_THAT(reader, IsOk());
  // The backfill runs at 6000 records/s: about half a second, beside the
  // workload.
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                 Background(6000));
  ASSERT_THAT(handle, IsOk());
  const absl::Time returned = absl::Now();
  Workload w(db_->db(), reader->get(), m, v1_, kTasks, 3);
  w.Start();
  // Ready at once: the first read is served while the backfill runs.
  EXPECT_EQ((*handle)->snapshot().phase, Phase::kRunning);
  EXPECT_LT(absl::Now() - returned, absl::Seconds(1));
  ASSERT_THAT((*handle)->Wait(), IsOk());
  absl::SleepFor(absl::Milliseconds(200));  // The workload after the end.
  w.StopAndJoin();
  EXPECT_EQ(w.stale_reads(), 0u) << w.first_problem();
  EXPECT_EQ(w.errors(), 0u) << w.first_problem();
  EXPECT_GT(w.ops(), 1000u);
  EXPECT_EQ((*handle)->snapshot().phase, Phase::kDone);

  // Every record at v2 with the content the model says: the server's last
  // write where it wrote, the migration's output elsewhere.
  const auto written = w.Written();
  const Dump all = db_->DumpAll();
  ExpectTasks(all, Dump(w.expected_v2().begin(), w.expected_v2().end()),
              written);
  EXPECT_EQ(WithPrefix(all, "note:"), WithPrefix(v1_, "note:"));

  // Exactly one backup of the pre-step bytes for every record the migrator
  // rewrote, none for records the server rewrote first.
  auto migrator = Migrator::Create(db_->db(), &registry);
  ASSERT_THAT(migrator, IsOk());
  auto history = (*migrator)->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);
  const HistoryEntry& e = history->front();
  EXPECT_EQ(e.status, StepStatus::kSuccess);
  EXPECT_EQ(e.mode, RunMode::kOnline);
  ASSERT_TRUE(e.backup_id.has_value());
  const Dump backup = BackupOf(all, *e.backup_id);
  EXPECT_EQ(backup.size(), e.items_migrated);
  uint64_t untouched = 0;
  for (int i = 0; i < kTasks; ++i) {
    const std::string key = TaskKey(i);
    auto b = backup.find(key);
    if (!written.count(key)) {
      ++untouched;
      ASSERT_NE(b, backup.end()) << key << " was never backed up";
    }
    if (b != backup.end()) {
      EXPECT_EQ(b->second, v1_.at(key)) << key;
    }
  }
  EXPECT_GT(untouched, 0u);
  for (const auto& [k, v] : backup) {
    EXPECT_EQ(k.rfind("task:new:", 0), std::string::npos) << k;
  }
  // Each backed-up record has its digest; the reader now skips the
  // migrations.
  EXPECT_EQ(DigestedKeys(all, *e.backup_id), KeysOf(backup));
  ASSERT_THAT((*reader)->Refresh(), IsOk());
  EXPECT_EQ((*reader)->from_version(), 2);
}

// An item error late in the step, with the server writing: the restore puts
// the original bytes back only where the migrator's own bytes still are,
// and keeps every server write.
TEST_F(OnlineTest, ItemErrorWithLiveWritersKeepsEveryServerWrite) {
  const std::string bad = TaskKey(kTasks - 10);
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<FuncMigration>(
                  1, "fail_late", "task:",
                  [bad](std::string_view key, std::string_view value)
                      -> absl::StatusOr<ItemResult> {
                    if (value.find("\"schema_version\":2") != std::string::npos) {
                      return ItemResult::Keep();
                    }
                    if (key == bad) return absl::InvalidArgumentError("bad record");
                    std::string v(value);
                    v.insert(v.size() - 1, ",\"done\":false,\"schema_version\":2");
                    return ItemResult::Write(std::move(v));
                  })),
              IsOk());
  const Migration* m = registry.FindStep(1)->migrations[0];
  auto reader = UpgradingReader::Create(db_->db(), &registry);
  ASSERT_THAT(reader, IsOk());
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                 Background(6000));
  ASSERT_THAT(handle, IsOk());
  // The workload avoids the bad record (its reads would fail, rightly).
  Workload w(db_->db(), reader->get(), m, v1_, kTasks - 20, 3);
  w.Start();
  absl::Status final = (*handle)->Wait();
  w.StopAndJoin();
  EXPECT_THAT(final, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(final.message(), HasSubstr(bad));
  EXPECT_EQ((*handle)->snapshot().phase, Phase::kFailed);
  EXPECT_EQ(w.stale_reads(), 0u) << w.first_problem();
  EXPECT_EQ(w.errors(), 0u) << w.first_problem();

  const auto written = w.Written();
  const Dump all = db_->DumpAll();
  ExpectTasks(all, WithPrefix(v1_, "task:"), written);  // Restored if untouched.
  auto migrator = Migrator::Create(db_->db(), &registry);
  ASSERT_THAT(migrator, IsOk());
  auto history = (*migrator)->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);
  const HistoryEntry& e = history->front();
  EXPECT_EQ(e.status, StepStatus::kFailed);
  EXPECT_EQ(e.mode, RunMode::kOnline);
  EXPECT_GT(e.items_kept, 0u) << "no server write met a migrated record";
  EXPECT_LE(e.kept_keys.size(), 10u);
  for (const std::string& k : e.kept_keys) {
    EXPECT_TRUE(written.count(k)) << k << " was kept but never written";
  }
  // The backup and its digests are gone with the failed step.
  EXPECT_TRUE(WithPrefix(all, "_backup_").empty());
}

// Rollback of an online step after the server rewrote some records: those
// are kept (and listed), the others get their v1 bytes back.
TEST_F(OnlineTest, RollbackOfAnOnlineStepKeepsRecordsTheServerRewrote) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  MigratorOptions o = OnlineOptions();
  o.online = true;
  auto migrator = Migrator::Create(db_->db(), &registry, o);
  ASSERT_THAT(migrator, IsOk());
  ASSERT_THAT((*migrator)->Migrate(), IsOk());
  db_->Put(TaskKey(5), ServerV2(5, 42));
  db_->Delete(TaskKey(6));
  auto report = (*migrator)->Rollback(1);
  ASSERT_THAT(report, IsOk());
  const Dump all = db_->DumpAll();
  Dump want = WithPrefix(v1_, "task:");
  want[TaskKey(5)] = ServerV2(5, 42);
  want.erase(TaskKey(6));
  EXPECT_EQ(WithPrefix(all, "task:"), want)
      << DescribeDiff(want, WithPrefix(all, "task:"));
  ASSERT_EQ(report->steps.size(), 1u);
  EXPECT_EQ(report->steps[0].status, StepStatus::kRolledBack);
  EXPECT_EQ(report->steps[0].items_kept, 2u);
  EXPECT_EQ(report->steps[0].kept_keys,
            (std::vector<std::string>{TaskKey(5), TaskKey(6)}));
}

// v1 -> v2 adds "done": false; its down removes it again.
class AddDoneWithDown : public JsonMigration {
 public:
  AddDoneWithDown() : JsonMigration(1, 2, "task_add_done", "task:") {}
  absl::Status Transform(std::string_view, Json& task) const override {
    task["done"] = false;
    return absl::OkStatus();
  }
  bool has_down() const override { return true; }
  absl::Status DownTransform(std::string_view, Json& task) const override {
    task.erase("done");
    return absl::OkStatus();
  }
};

// A v1 task as a server writes it once a rollback to v1 has begun.
std::string ServerV1(int id, int n) {
  return absl::StrCat(R"({"id":)", id, R"(,"n":)", n, R"(,"schema_version":1})");
}

// An online down pass (a rollback by the down transforms, the step's backup
// having been pruned) beside servers that write v1 records under the same
// prefix: every record a server wrote once the pass began holds exactly the
// server's bytes afterwards (no write lost, none rewritten by the pass), and
// every other record exactly what the down transform makes of its v2 bytes.
TEST_F(OnlineTest, OnlineDownPassKeepsEveryServerWrite) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDoneWithDown>()), IsOk());
  const Migration* m = registry.FindStep(1)->migrations[0];
  MigratorOptions o = OnlineOptions();
  o.online = true;
  PacingOptions pacing;
  pacing.records_per_second = 6000;  // About half a second for the pass.
  pacing.poll_interval = absl::Milliseconds(10);
  o.pacer = std::make_shared<Pacer>(pacing);
  auto migrator = Migrator::Create(db_->db(), &registry, o);
  ASSERT_THAT(migrator, IsOk());
  auto up = (*migrator)->Migrate();
  ASSERT_THAT(up, IsOk());
  ASSERT_THAT((*migrator)->DeleteBackup(*up->steps.at(0).backup_id), IsOk());
  const Dump migrated = WithPrefix(db_->DumpAll(), "task:");
  // What the pass makes of each record no server touches.
  Dump downed;
  for (const auto& [k, v] : migrated) {
    absl::StatusOr<ItemResult> r = m->Down(k, v);
    ASSERT_THAT(r, IsOk());
    downed[k] = r->kind() == ItemResult::Kind::kWrite ? r->value() : v;
  }
  ASSERT_NE(downed, migrated);

  // The servers: each owns the keys i with i % kWriters == t, so that its
  // model of them is exact, leaves every third one to the pass alone, and
  // starts once the pass's cursor is committed.
  constexpr int kWriters = 2;
  std::atomic<bool> stop{false};
  std::atomic<bool> passing{true};   // Until Rollback() returns.
  std::atomic<uint64_t> during{0};   // Writes made while it ran.
  std::vector<std::map<std::string, std::string>> models(kWriters);
  std::vector<std::string> problems(kWriters);
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      rocksdb::TransactionDB* db = db_->db();
      std::string cursor;
      while (!stop &&
             !db->Get(rocksdb::ReadOptions(), "_migration_progress", &cursor)
                  .ok()) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      std::mt19937 rng(4321 + t);
      int inserted = 0;
      while (!stop) {
        std::string key, value;
        if (rng() % 10 == 0) {  // A new record.
          key = absl::StrCat("task:new:", t, ":", inserted);
          value = ServerV1(1000000 + 100000 * t + inserted, 0);
          ++inserted;
        } else {  // A rewrite of one of its records.
          int i = static_cast<int>(rng() % kTasks);
          i += t - i % kWriters;
          if (i >= kTasks || i % 3 == 0) continue;
          key = TaskKey(i);
          value = ServerV1(i, static_cast<int>(rng() % 1000) + 1);
        }
        rocksdb::Status s = db->Put(rocksdb::WriteOptions(), key, value);
        if (!s.ok()) {
          problems[t] = absl::StrCat("put ", key, ": ", s.ToString());
          return;
        }
        models[t][key] = value;
        if (passing) ++during;
      }
    });
  }
  auto report = (*migrator)->Rollback(1);
  passing = false;
  absl::SleepFor(absl::Milliseconds(50));  // Writes after the pass too.
  stop = true;
  for (std::thread& w : writers) w.join();
  ASSERT_THAT(report, IsOk());
  for (const std::string& p : problems) EXPECT_EQ(p, "");
  EXPECT_GT(during.load(), 100u) << "the servers barely met the pass";
  ASSERT_EQ(report->steps.size(), 1u);
  EXPECT_EQ(report->steps[0].status, StepStatus::kRolledBack);
  EXPECT_TRUE(report->steps[0].down);

  Dump want = downed;
  uint64_t rewritten = 0;
  for (const auto& model : models) {
    for (const auto& [k, v] : model) {
      if (downed.count(k)) ++rewritten;
      want[k] = v;
    }
  }
  EXPECT_GT(rewritten, 0u);
  const Dump all = db_->DumpAll();
  EXPECT_EQ(WithPrefix(all, "task:"), want)
      << DescribeDiff(want, WithPrefix(all, "task:"));
  EXPECT_EQ(WithPrefix(all, "note:"), WithPrefix(v1_, "note:"));
  EXPECT_EQ(all.count("_migration_progress"), 0u);
  EXPECT_EQ(all.at("_schema_version"), "1");
  // The pass's own backup and its digests went with it.
  EXPECT_TRUE(WithPrefix(all, "_backup_").empty());
}

// A server write that lands after the backfill read a batch and before it
// locked it (here: made from inside the migration, on a later key of the
// same batch) is found under the lock and kept; the migrator never writes
// the value it read before.
TEST_F(OnlineTest, ServerWriteBetweenScanAndLockIsNotLost) {
  for (bool online : {true, false}) {
    SCOPED_TRACE(online ? "online" : "concurrent_writers");
    TempDir dir;
    auto db = TestDb::Open(dir.Sub("db"));
    db->Put(v1_);
    const std::string hit = TaskKey(7);      // Where the migration writes.
    const std::string victim = TaskKey(20);  // Later in the same batch.
    std::atomic<int> writes{0};
    MigrationRegistry registry;
    rocksdb::TransactionDB* raw = db->db();
    ASSERT_THAT(registry.Register(std::make_unique<FuncMigration>(
                    1, "add_done", "task:",
                    [&, raw](std::string_view key, std::string_view value)
                        -> absl::StatusOr<ItemResult> {
                      if (value.find("\"schema_version\":2") != std::string::npos) {
                        return ItemResult::Keep();
                      }
                      if (key == hit && writes++ == 0) {
                        rocksdb::Status s =
                            raw->Put(rocksdb::WriteOptions(), victim, ServerV2(20, 99));
                        if (!s.ok()) return absl::InternalError(s.ToString());
                      }
                      std::string v(value);
                      v.insert(v.size() - 1, ",\"schema_version\":2");
                      return ItemResult::Write(std::move(v));
                    })),
                IsOk());
    MigratorOptions o = OnlineOptions();
    o.online = online;
    o.concurrent_writers = !online;
    auto migrator = Migrator::Create(raw, &registry, o);
    ASSERT_THAT(migrator, IsOk());
    auto report = (*migrator)->Migrate();
    ASSERT_THAT(report, IsOk());
    EXPECT_EQ(writes.load(), 1);
    EXPECT_EQ(db->DumpAll().at(victim), ServerV2(20, 99));
    const HistoryEntry& e = report->steps.back();
    EXPECT_EQ(e.items_migrated, static_cast<uint64_t>(kTasks - 1));
    EXPECT_EQ(e.items_skipped, 1u);
  }
}

// The backup tools see an online step's backup as any other: listed once
// (its digest blocks are not backups), verified, and deleted whole.
TEST_F(OnlineTest, BackupToolsHandleDigestBlocks) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  MigratorOptions o = OnlineOptions();
  o.online = true;
  auto migrator = Migrator::Create(db_->db(), &registry, o);
  ASSERT_THAT(migrator, IsOk());
  ASSERT_THAT((*migrator)->Migrate(), IsOk());
  auto list = (*migrator)->ListBackups();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  const BackupInfo& b = list->front();
  EXPECT_TRUE(b.readable);
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(b.item_count, static_cast<uint64_t>(kTasks));
  ASSERT_FALSE(WithPrefix(db_->DumpAll(), b.id + "#").empty());
  auto verified = (*migrator)->VerifyBackup(b.id);
  ASSERT_THAT(verified, IsOk());
  EXPECT_THAT(verified->status, IsOk());
  ASSERT_THAT((*migrator)->DeleteBackup(b.id), IsOk());
  EXPECT_TRUE(WithPrefix(db_->DumpAll(), b.id).empty());
}

// A damaged digest block: the rollback is refused before any write, naming
// the block.
TEST_F(OnlineTest, DamagedDigestBlockRefusesTheRollbackNamingIt) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  MigratorOptions o = OnlineOptions();
  o.online = true;
  auto migrator = Migrator::Create(db_->db(), &registry, o);
  ASSERT_THAT(migrator, IsOk());
  ASSERT_THAT((*migrator)->Migrate(), IsOk());
  const Dump migrated = db_->DumpAll();
  std::string block_key;
  for (const auto& [k, v] : migrated) {
    if (k.rfind("_backup_", 0) == 0 && k.find('#') != std::string::npos) {
      block_key = k;
      break;
    }
  }
  ASSERT_FALSE(block_key.empty());
  db_->Put(block_key, "\xff\xff\xff");
  const Dump damaged = db_->DumpAll();
  auto report = (*migrator)->Rollback(1);
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(report.status().message(), HasSubstr(block_key));
  EXPECT_EQ(db_->DumpAll(), damaged) << DescribeDiff(damaged, db_->DumpAll());
}

// The same rollback of an offline step restores every record (today's
// contract, which the README states).
TEST_F(OnlineTest, RollbackOfAnOfflineStepRestoresEveryRecord) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  auto migrator = Migrator::Create(db_->db(), &registry, OnlineOptions());
  ASSERT_THAT(migrator, IsOk());
  ASSERT_THAT((*migrator)->Migrate(), IsOk());
  db_->Put(TaskKey(5), ServerV2(5, 42));
  auto report = (*migrator)->Rollback(1);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(WithPrefix(db_->DumpAll(), "task:"), WithPrefix(v1_, "task:"));
  EXPECT_EQ(report->steps[0].items_kept, 0u);
}

// Pause and resume, the pause file, the busy callback, a rate change; the
// cursor shows each, for `status` in another process.
TEST_F(OnlineTest, PauseResumePauseFileBusyAndRateChange) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  std::atomic<bool> busy{false};
  StartupOptions s = Background(2000);
  s.pacing.pause_file = dir_.Sub("pause");
  s.pacing.busy = [&busy] { return busy.load(); };
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(), s);
  ASSERT_THAT(handle, IsOk());
  MigrationHandle& h = **handle;
  auto inspect = [&]() -> InFlight {
    auto m = Migrator::Create(db_->db(), &registry);
    EXPECT_TRUE(m.ok());
    auto st = (*m)->Inspect();
    EXPECT_TRUE(st.ok());
    return st->in_flight.value_or(InFlight{});
  };
  // Held: the count stands still, and the cursor says why.
  auto held = [&](const std::string& why) {
    absl::SleepFor(absl::Milliseconds(150));
    const uint64_t before = h.snapshot().items_done;
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_EQ(h.snapshot().items_done, before) << why;
    EXPECT_THAT(h.snapshot().pacing, HasSubstr(why));
    EXPECT_THAT(inspect().pacing, HasSubstr(why));
  };
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_GT(h.snapshot().items_done, 0u);
  EXPECT_LT(h.snapshot().items_done, static_cast<uint64_t>(kTasks));
  h.Pause();
  EXPECT_TRUE(h.snapshot().paused);
  held("Pause()");
  h.Resume();
  absl::SleepFor(absl::Milliseconds(200));
  { std::ofstream(dir_.Sub("pause")) << "x"; }
  held("flag file " + dir_.Sub("pause"));
  ASSERT_EQ(::unlink(dir_.Sub("pause").c_str()), 0);
  busy = true;
  held("server busy");
  busy = false;
  absl::SleepFor(absl::Milliseconds(100));
  const InFlight live = inspect();
  EXPECT_EQ(live.mode, RunMode::kOnline);
  EXPECT_THAT(live.pacing, HasSubstr("rate limit 2000 records/s"));
  EXPECT_FALSE(live.updated_at.empty());
  EXPECT_GT(live.records_per_second, 0u);
  // At 2000 records/s the rest would take a second or more; unlimited, it
  // is done at once.
  ASSERT_GT(h.snapshot().items_done + 1000, 0u);
  h.pacer().SetRecordsPerSecond(0);
  EXPECT_TRUE(h.WaitFor(absl::Seconds(20)));
  EXPECT_THAT(h.Wait(), IsOk());
  for (const auto& [k, v] : WithPrefix(db_->DumpAll(), "task:")) {
    EXPECT_THAT(v, HasSubstr("\"schema_version\":2")) << k;
  }
}

// Stop() is resumable: the next start finishes from the cursor.
TEST_F(OnlineTest, StopIsResumableAndTheNextStartFinishes) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  {
    auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                   Background(3000));
    ASSERT_THAT(handle, IsOk());
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_THAT((*handle)->Stop(), StatusIs(absl::StatusCode::kCancelled));
    EXPECT_EQ((*handle)->snapshot().phase, Phase::kStopped);
    EXPECT_GT((*handle)->snapshot().items_done, 0u);
  }
  auto migrator = Migrator::Create(db_->db(), &registry);
  ASSERT_THAT(migrator, IsOk());
  auto st = (*migrator)->Inspect();
  ASSERT_THAT(st, IsOk());
  ASSERT_TRUE(st->in_flight.has_value());
  EXPECT_EQ(st->in_flight->mode, RunMode::kOnline);
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                 Background(0));
  ASSERT_THAT(handle, IsOk());
  ASSERT_THAT((*handle)->Wait(), IsOk());
  auto history = (*migrator)->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);  // One step, interrupted then finished.
  EXPECT_EQ(history->front().status, StepStatus::kSuccess);
  EXPECT_EQ(history->front().items_migrated, static_cast<uint64_t>(kTasks));
}

// The foreground budget with kRefuse: the run stops resumably and the call
// refuses; with an unlimited budget it is today's blocking call.
TEST_F(OnlineTest, BudgetRunsOutWithRefuseStopsResumably) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<FuncMigration>(
                  1, "slow", "task:",
                  [](std::string_view, std::string_view value)
                      -> absl::StatusOr<ItemResult> {
                    absl::SleepFor(absl::Microseconds(200));
                    return ItemResult::Write(std::string(value) + " ");
                  })),
              IsOk());
  StartupOptions s;
  s.foreground_budget = absl::Milliseconds(100);
  auto refused = MigrateOnStartup(db_->db(), registry, OnlineOptions(), s);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(refused.status().message(), HasSubstr("resum"));
  s.foreground_budget = absl::InfiniteDuration();
  auto done = MigrateOnStartup(db_->db(), registry, OnlineOptions(), s);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ((*done)->snapshot().phase, Phase::kDone);
  for (int i = 0; i < kTasks; ++i) {
    EXPECT_EQ(db_->DumpAll().at(TaskKey(i)), v1_.at(TaskKey(i)) + " ");
    break;  // One is enough here; MigratorTest checks every byte.
  }
}

// Refusals come back from the call itself, before the server serves.
TEST_F(OnlineTest, RefusalsAreReturnedBeforeServing) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  db_->Put("_schema_version", "7");
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                 Background(0));
  EXPECT_THAT(handle, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(handle.status().message(), HasSubstr("newer"));
  EXPECT_THAT(UpgradingReader::Create(db_->db(), &registry),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(OnlineTest, NegativeBudgetIsRefusedWithNothingWritten) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  const Dump before = db_->DumpAll();
  StartupOptions s = Background(0);
  s.foreground_budget = absl::Seconds(-1);
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(), s);
  EXPECT_THAT(handle, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(handle.status().message(), HasSubstr("foreground_budget"));
  EXPECT_EQ(db_->DumpAll(), before);
}

TEST_F(OnlineTest, OnlineNeedsATransactionDb) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("plain"), &raw).ok());
  std::unique_ptr<rocksdb::DB> plain(raw);
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  auto handle = MigrateOnStartup(plain.get(), registry, OnlineOptions(),
                                 Background(0));
  EXPECT_THAT(handle, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(handle.status().message(), HasSubstr("TransactionDB"));
}

// Backoff while RocksDB reports pending compaction above the threshold; the
// run goes on once compaction has caught up.
TEST_F(OnlineTest, BacksOffWhilePendingCompactionIsHigh) {
  // Several overlapping L0 files with compaction off: pending bytes > 0.
  ASSERT_TRUE(db_->db()->SetOptions({{"disable_auto_compactions", "true"}}).ok());
  for (int f = 0; f < 4; ++f) {
    for (int i = 0; i < kTasks; i += 2) {
      db_->Put(absl::StrCat("note:", i), absl::StrCat("note ", i));
    }
    ASSERT_TRUE(db_->db()->Flush(rocksdb::FlushOptions()).ok());
  }
  uint64_t pending = 0;
  ASSERT_TRUE(db_->db()->GetIntProperty(
      "rocksdb.estimate-pending-compaction-bytes", &pending));
  if (pending == 0) GTEST_SKIP() << "RocksDB estimates no pending compaction";
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddField>(1, "task:", "done", false)),
              IsOk());
  StartupOptions s = Background(0);
  s.pacing.max_pending_compaction_bytes = 1;
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(), s);
  ASSERT_THAT(handle, IsOk());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ((*handle)->snapshot().items_done, 0u);
  EXPECT_THAT((*handle)->snapshot().pacing, HasSubstr("pending compaction"));
  ASSERT_TRUE(db_->db()->SetOptions({{"disable_auto_compactions", "false"}}).ok());
  ASSERT_TRUE(db_->db()->CompactRange(rocksdb::CompactRangeOptions(), nullptr,
                                      nullptr).ok());
  EXPECT_TRUE((*handle)->WaitFor(absl::Seconds(30)));
  EXPECT_THAT((*handle)->Wait(), IsOk());
}

// A JSON-file migration online, and a two-step chain v1 -> v3: reads see
// v3 throughout.
TEST_F(OnlineTest, JsonFileChainOfTwoStepsOnline) {
  const std::string mdir = dir_.Sub("migrations");
  ASSERT_EQ(::mkdir(mdir.c_str(), 0755), 0);
  std::ofstream(mdir + "/0002_task_done.json")
      << R"({"from":1,"to":2,"name":"task_done","prefix":"task:",)"
      << R"("patch":[{"op":"add","path":"/done","value":false}]})";
  std::ofstream(mdir + "/0003_task_tags.json")
      << R"({"from":2,"to":3,"name":"task_tags","prefix":"task:",)"
      << R"("patch":[{"op":"add","path":"/tags","value":[]}]})";
  MigrationRegistry registry;
  ASSERT_THAT(RegisterMigrationDir(mdir, &registry), IsOk());
  auto reader = UpgradingReader::Create(db_->db(), &registry);
  ASSERT_THAT(reader, IsOk());
  EXPECT_EQ((*reader)->to_version(), 3);
  // Expected v3 bytes: both patches applied to the v1 bytes.
  std::map<std::string, std::string> v3;
  for (int i = 0; i < kTasks; ++i) {
    auto up = (*reader)->Upgrade(TaskKey(i), v1_.at(TaskKey(i)));
    ASSERT_THAT(up, IsOk());
    ASSERT_TRUE(up->has_value());
    EXPECT_THAT(**up, HasSubstr("\"schema_version\":3"));
    v3[TaskKey(i)] = **up;
  }
  auto handle = MigrateOnStartup(db_->db(), registry, OnlineOptions(),
                                 Background(8000));
  ASSERT_THAT(handle, IsOk());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> stale{0}, reads{0};
  std::thread readers([&] {
    std::mt19937 rng(7);
    while (!stop) {
      const std::string key = TaskKey(static_cast<int>(rng() % kTasks));
      auto got = (*reader)->Get(key);
      ++reads;
      if (!got.ok() || *got != v3.at(key)) ++stale;
    }
  });
  absl::Status final = (*handle)->Wait();
  stop = true;
  readers.join();
  ASSERT_THAT(final, IsOk());
  EXPECT_EQ(stale.load(), 0u);
  EXPECT_GT(reads.load(), 100u);
  for (int i = 0; i < kTasks; ++i) {
    EXPECT_EQ(db_->DumpAll().count(TaskKey(i)), 1u);
    break;
  }
  Dump tasks = WithPrefix(db_->DumpAll(), "task:");
  Dump want(v3.begin(), v3.end());
  EXPECT_EQ(tasks, want) << DescribeDiff(want, tasks);
  auto migrator = Migrator::Create(db_->db(), &registry);
  auto history = (*migrator)->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  for (const HistoryEntry& e : *history) {
    EXPECT_EQ(e.mode, RunMode::kOnline);
    EXPECT_EQ(e.checksums.size(), 1u);
  }
}

// The reader's iterator skips records a migration deletes and stops with
// the key of a record that cannot be upgraded.
TEST_F(OnlineTest, IteratorSkipsDeletedAndReportsItemErrors) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<FuncMigration>(
                  1, "drop_odd", "task:",
                  [](std::string_view key, std::string_view value)
                      -> absl::StatusOr<ItemResult> {
                    if (key == TaskKey(8)) return absl::InvalidArgumentError("no");
                    if ((key.back() - '0') % 2 == 1) return ItemResult::Delete();
                    return ItemResult::Write(std::string(value) + "!");
                  })),
              IsOk());
  auto reader = UpgradingReader::Create(db_->db(), &registry);
  ASSERT_THAT(reader, IsOk());
  std::unique_ptr<UpgradingIterator> it = (*reader)->NewIterator({});
  std::vector<std::string> keys;
  for (it->Seek("task:"); it->Valid(); it->Next()) {
    keys.push_back(std::string(it->key()));
    EXPECT_EQ(it->value(), v1_.at(std::string(it->key())) + "!");
  }
  EXPECT_EQ(keys, (std::vector<std::string>{TaskKey(0), TaskKey(2), TaskKey(4),
                                            TaskKey(6)}));
  EXPECT_THAT(it->status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(it->status().message(), HasSubstr(TaskKey(8)));
  EXPECT_THAT((*reader)->Get(TaskKey(1)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*reader)->Get("note:1"), IsOk());
  it->SeekForPrev(TaskKey(7));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), TaskKey(6));
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), TaskKey(4));
}

}  // namespace
}  // namespace rocksmigrate
