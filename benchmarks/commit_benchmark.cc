// Batch commit, the I/O cost of a migration: one WriteBatch holding 1,000
// backups, 1,000 new values and the progress cursor, committed the way
// step_runner.cc does it (MetaStore::Commit: WAL on, synced, no per-key
// locks on a TransactionDB). Variants show what the key order inside the
// batch (DESIGN.md: backups then values, not interleaved) and the sync cost.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tools/sample/sample_data.h"
#include "glog/logging.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksdb/write_batch.h"
#include "src/backup_store.h"
#include "src/keys.h"
#include "src/metadata.h"

namespace {

constexpr uint64_t kSeed = 42;
constexpr char kBackupId[] = "_backup_20250101_000000";

// A fresh TransactionDB in a temp dir, removed with the object.
class TempDb {
 public:
  TempDb() {
    dir_ = (std::filesystem::temp_directory_path() /
            "rocksmigrate-commit-bench-XXXXXX")
               .string();
    CHECK(mkdtemp(dir_.data()) != nullptr);
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::TransactionDB* db = nullptr;
    rocksdb::Status s = rocksdb::TransactionDB::Open(
        options, rocksdb::TransactionDBOptions(), dir_ + "/db", &db);
    CHECK(s.ok()) << s.ToString();
    db_.reset(db);
  }
  ~TempDb() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  rocksdb::TransactionDB* db() const { return db_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<rocksdb::TransactionDB> db_;
};

// Builds the batch of records [first, first + n): backups then new values
// (or interleaved, backup and value per record), then the cursor.
void BuildBatch(const rocksmigrate::MetaStore& meta,
                const rocksmigrate::BackupStore& backups,
                const std::vector<std::string>& v1,
                const std::vector<std::string>& v2, uint64_t first, size_t n,
                bool interleaved, rocksdb::WriteBatch* wb) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    keys.push_back(rocksmigrate_sample::RecordKey(rocksmigrate_sample::TaskIndex(first + i)));
  }
  if (interleaved) {
    for (size_t i = 0; i < n; ++i) {
      backups.PutRecord(wb, backups.write_cf(), kBackupId, keys[i], v1[i % v1.size()]);
      wb->Put(keys[i], v2[i % v2.size()]);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      backups.PutRecord(wb, backups.write_cf(), kBackupId, keys[i], v1[i % v1.size()]);
    }
    for (size_t i = 0; i < n; ++i) wb->Put(keys[i], v2[i % v2.size()]);
  }
  rocksmigrate::Cursor cursor;
  cursor.info.run_id = "bench";
  cursor.info.state = rocksmigrate::StepState::kMigrating;
  cursor.info.from = 1;
  cursor.info.to = 2;
  cursor.info.backup_id = kBackupId;
  cursor.info.prefix = rocksmigrate_sample::kTaskPrefix;
  cursor.info.last_key = keys.back();
  cursor.info.items_migrated = first + n;
  cursor.has_last_key = true;
  meta.PutCursor(wb, cursor);
}

void Values(std::vector<std::string>* v1, std::vector<std::string>* v2) {
  for (uint64_t i = 0; v1->size() < 512; ++i) {
    if (!rocksmigrate_sample::IsTask(i)) continue;
    v1->push_back(rocksmigrate_sample::RecordValue(kSeed, i));
    v2->push_back(rocksmigrate_sample::ExpectedTaskV2(v1->back()));
  }
}

// Args: batch items, interleaved (0/1), synced (0/1).
void BM_CommitBatch(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const bool interleaved = state.range(1) != 0;
  const bool synced = state.range(2) != 0;
  std::vector<std::string> v1, v2;
  Values(&v1, &v2);
  TempDb db;
  rocksmigrate::MetaStore meta(db.db());
  rocksmigrate::BackupStore backups(&meta, nullptr, {});
  uint64_t next = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch wb;
    BuildBatch(meta, backups, v1, v2, next, n, interleaved, &wb);
    next += n;
    bytes += static_cast<int64_t>(wb.GetDataSize());
    if (synced) {
      absl::Status s = meta.Commit(&wb, "benchmark batch");
      CHECK(s.ok()) << s;
    } else {
      rocksdb::WriteOptions wo;
      rocksdb::TransactionDBWriteOptimizations opt;
      opt.skip_concurrency_control = true;
      rocksdb::Status s = db.db()->Write(wo, opt, &wb);
      CHECK(s.ok()) << s.ToString();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_CommitBatch)
    ->ArgNames({"items", "interleaved", "sync"})
    ->Args({1000, 0, 1})
    ->Args({1000, 1, 1})
    ->Args({1000, 0, 0})
    ->Args({1000, 1, 0})
    ->Args({100, 0, 1})
    ->Args({10000, 0, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Building the WriteBatch alone (no write): the CPU part of a commit.
void BM_BuildBatch(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<std::string> v1, v2;
  Values(&v1, &v2);
  TempDb db;  // Only for the column family handles; nothing is written.
  rocksmigrate::MetaStore meta(db.db());
  rocksmigrate::BackupStore backups(&meta, nullptr, {});
  uint64_t next = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch wb;
    BuildBatch(meta, backups, v1, v2, next, n, false, &wb);
    next += n;
    benchmark::DoNotOptimize(wb.GetDataSize());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_BuildBatch)->ArgNames({"items"})->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
