// Regression tests for engine bugs the fault suite found, one per bug,
// named after it.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksmigrate/migrator.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/fault_fs.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::FaultFs;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::TempDir;

// Like the suite's step 1 -> 2, but slow on keys from task:000060 on, so
// that the pipeline is still busy transforming when a commit fails.
class SlowTailMigration : public TagMigration {
 public:
  SlowTailMigration() : TagMigration(1, "task:", true) {}
  absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                     std::string_view value) const override {
    if (key >= std::string_view("task:000060")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    return TagMigration::Migrate(key, value);
  }
};

// Bug: the group-commit WAL syncer could start DB::SyncWAL after the
// writer's WAL append had failed (before the writer stopped it); RocksDB's
// WritableFileWriter then trips the assertion `sync_without_flush_called_`
// and Debian's build aborts the process, instead of the run stopping with
// the write's error. Each case fails the N-th write for good while syncs
// are slow (so batches wait for their sync); before the fix some of them
// aborted the test binary.
TEST(RegressionTest, WalSyncerNeverSyncsAfterAFailedWalWrite) {
  DatasetSpec spec;
  spec.tasks = 160;
  spec.notes = 0;
  spec.big = 0;
  Dump v1 = MakeDataset(TestSeed(900), spec);
  Model model(v1);
  int errors = 0;
  for (int n = 4; n <= 40; n += 3) {
    SCOPED_TRACE(absl::StrFormat("write %d fails", n));
    TempDir dir;
    CreateDb(dir.Sub("db"), v1);
    auto fs = std::make_shared<FaultFs>(rocksdb::FileSystem::Default());
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    absl::Status s;
    {
      OpenOptions o;
      o.env = env.get();
      auto db = FaultDb::Open(dir.Sub("db"), o);
      ASSERT_THAT(db, IsOk());
      MigrationRegistry registry;
      ASSERT_THAT(registry.Register(std::make_unique<SlowTailMigration>()),
                  IsOk());
      MigratorOptions mo;
      mo.batch_items = 4;
      mo.threads = 2;
      auto m = Migrator::Create((*db)->db(), &registry, mo);
      ASSERT_THAT(m, IsOk());
      fs->SetSyncDelay(3000);
      fs->Inject({FaultFs::Op::kWrite, n, /*persistent=*/true,
                  rocksdb::IOStatus::IOError("injected EIO")});
      s = (*m)->Migrate().status();
      fs->ClearInjection();
      fs->SetSyncDelay(0);
    }
    if (!s.ok()) ++errors;
    Dump all = ReadDb(dir.Sub("db"));
    ASSERT_EQ(CheckInvariant(all, model), "") << s;
  }
  EXPECT_GT(errors, 0);
}


// Runs a migrate of a fresh copy of `v1` with the N-th operation of kind
// `op` failing once, for N = 1.. until a run meets no fault; after each the
// database must reopen, hold the invariant, and let a later run finish.
void FaultEachOperationOnce(FaultFs::Op op, uint64_t seed) {
  DatasetSpec spec;
  spec.tasks = 80;
  spec.notes = 40;
  Dump v1 = MakeDataset(seed, spec);
  Model model(v1);
  for (int n = 1; n < 200; ++n) {
    SCOPED_TRACE(absl::StrFormat("operation %d fails", n));
    TempDir dir;
    CreateDb(dir.Sub("db"), v1);
    auto fs = std::make_shared<FaultFs>(rocksdb::FileSystem::Default());
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    auto registry = MakeRegistry();
    int failures = 0;
    {
      OpenOptions o;
      o.env = env.get();
      auto db = FaultDb::Open(dir.Sub("db"), o);
      ASSERT_THAT(db, IsOk());
      MigratorOptions mo;
      mo.batch_items = 11;
      auto m = Migrator::Create((*db)->db(), registry.get(), mo);
      fs->Inject({op, n, /*persistent=*/false,
                  rocksdb::IOStatus::IOError("injected EIO")});
      (*m)->Migrate().status().IgnoreError();
      failures = fs->injected_failures();
      fs->ClearInjection();
    }
    OpenOptions plain;
    plain.create_if_missing = false;
    auto db = FaultDb::Open(dir.Sub("db"), plain);
    ASSERT_THAT(db, IsOk()) << "the database no longer opens";
    ASSERT_EQ(CheckInvariant((*db)->DumpAll(), model), "");
    auto m = Migrator::Create((*db)->db(), registry.get());
    ASSERT_THAT((*m)->Migrate(), IsOk());
    ASSERT_EQ(CheckInvariant((*db)->DumpAll(), model), "");
    if (failures == 0) return;
  }
}

// Bug: with backups ingested as SST files, a failed MANIFEST sync inside
// IngestExternalFile left the ingestion's edit on disk while RocksDB 7.8
// deleted the ingested file, so the database failed to open ("No such
// file ... .ldb"). Fixed in 39ed07c: backups go through the WAL again.
TEST(RegressionTest, SyncFailureDuringBackupIngestLeavesDatabaseOpenable) {
  FaultEachOperationOnce(FaultFs::Op::kSync, TestSeed(901));
}

// Bug: a read error while RocksDB read an ingested backup file
// (ExternalSstFileIngestionJob::GetIngestedFileInfo) tripped the assertion
// Valid() in BlockBasedTableIterator::key() and aborted the process.
TEST(RegressionTest, ReadErrorDuringBackupIngestDoesNotAbortTheProcess) {
  FaultEachOperationOnce(FaultFs::Op::kRead, TestSeed(902));
}

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
