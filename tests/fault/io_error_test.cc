// Scenario 3: I/O errors. The N-th write, sync or read of a run fails
// (N = 1, 2, ... until a run meets none), once or from then on. The run
// stops with a clear error, the data satisfies the invariant, and a later
// run without errors (after a reopen: RocksDB may have stopped writes)
// finishes. Scenario 4's injected half (IOStatus::NoSpace) runs here too.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
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

struct IoCase {
  FaultFs::Op op;
  bool persistent;
  bool no_space;
  bool rollback;  // Inject into a rollback instead of a migrate.
};

std::string IoCaseName(const ::testing::TestParamInfo<IoCase>& info) {
  const IoCase& c = info.param;
  const char* op = c.op == FaultFs::Op::kWrite  ? "Write"
                   : c.op == FaultFs::Op::kSync ? "Sync"
                                                : "Read";
  return absl::StrCat(c.rollback ? "Rollback" : "Migrate", op,
                      c.no_space ? "NoSpace" : "",
                      c.persistent ? "Persistent" : "Transient");
}

class IoErrorTest : public ::testing::TestWithParam<IoCase> {};

TEST_P(IoErrorTest, StopsWithClearErrorKeepsInvariantAndLaterRunFinishes) {
  const IoCase& c = GetParam();
  const uint64_t seed = TestSeed(300 + static_cast<int>(c.op) * 8 +
                                 c.persistent * 4 + c.no_space * 2 +
                                 c.rollback);
  DatasetSpec spec;
  spec.tasks = 80;
  spec.notes = 40;
  spec.big = 1;
  spec.big_payload = 9000;
  Dump v1 = MakeDataset(seed, spec);
  Model model(v1);
  const int start = c.rollback ? kNewest : kBaseline;
  const int goal = c.rollback ? kBaseline : kNewest;
  int errors = 0, n = 1;
  for (;; ++n) {
    ASSERT_LT(n, 400) << "runs kept meeting the injected fault";
    SCOPED_TRACE(absl::StrCat("N=", n, " seed ", seed));
    TempDir dir;
    const std::string path = dir.Sub("db");
    CreateDb(path, v1);
    auto registry = MakeRegistry();
    MigratorOptions mo;
    mo.batch_items = 11;
    if (c.rollback) {
      auto db = FaultDb::Open(path);
      ASSERT_THAT(db, IsOk());
      auto m = Migrator::Create((*db)->db(), registry.get(), mo);
      ASSERT_THAT((*m)->Migrate(), IsOk());
      (*db)->Flush();  // Reads of the rollback then hit SST files.
    }
    auto fs = std::make_shared<FaultFs>(rocksdb::FileSystem::Default());
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    absl::Status s;
    int failures = 0;
    {
      OpenOptions o;
      o.env = env.get();
      auto db = FaultDb::Open(path, o);
      ASSERT_THAT(db, IsOk());
      auto m = Migrator::Create((*db)->db(), registry.get(), mo);
      ASSERT_THAT(m, IsOk());
      FaultFs::Injection inj;
      inj.op = c.op;
      inj.nth = n;
      inj.persistent = c.persistent;
      inj.error = c.no_space ? rocksdb::IOStatus::NoSpace("injected ENOSPC")
                             : rocksdb::IOStatus::IOError("injected EIO");
      fs->Inject(inj);
      s = c.rollback ? (*m)->Rollback(goal).status() : (*m)->Migrate().status();
      failures = fs->injected_failures();
      fs->ClearInjection();
    }  // Closed: RocksDB may be in background-error mode.
    Dump all = ReadDb(path);
    ASSERT_EQ(CheckInvariant(all, model), "") << "status: " << s;
    if (s.ok()) {
      // A fault RocksDB absorbed (or none met): the run is complete.
      EXPECT_EQ(StoredVersion(all), goal);
      EXPECT_FALSE(InFlight(all));
    } else {
      ++errors;
      EXPECT_GT(failures, 0) << "an error without an injected fault: " << s;
      EXPECT_FALSE(s.message().empty());
      EXPECT_TRUE(absl::StrContains(s.message(), "injected") ||
                  absl::StrContains(s.message(), "IO error"))
          << "the error does not say what failed: " << s;
      if (c.no_space && c.op == FaultFs::Op::kWrite) {
        EXPECT_TRUE(absl::IsResourceExhausted(s) ||
                    absl::StrContains(s.message(), "ENOSPC"))
            << s;
      }
      // A later run with the errors off finishes the work. (A failed sync
      // may still have made the last commit durable: a rollback that is in
      // fact complete is then refused as having nothing to undo.)
      auto db = FaultDb::Open(path);
      ASSERT_THAT(db, IsOk());
      auto m = Migrator::Create((*db)->db(), registry.get(), mo);
      const bool done_already = StoredVersion(all) == goal && !InFlight(all);
      absl::Status again =
          c.rollback ? (*m)->Rollback(goal).status() : (*m)->Migrate().status();
      if (!(c.rollback && done_already)) {
        ASSERT_THAT(again, IsOk());
      }
      Dump done = (*db)->DumpAll();
      EXPECT_EQ(StoredVersion(done), goal);
      EXPECT_FALSE(InFlight(done));
      ASSERT_EQ(CheckInvariant(done, model), "");
    }
    if (failures == 0) break;  // This N is past the run's last operation.
  }
  std::fprintf(stderr, "[fault] %s: %d runs, %d stopped with an error\n",
               IoCaseName({GetParam(), 0}).c_str(), n, errors);
  EXPECT_GT(errors, 0) << "no injected fault ever reached the engine";
  (void)start;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, IoErrorTest,
    ::testing::Values(IoCase{FaultFs::Op::kWrite, false, false, false},
                      IoCase{FaultFs::Op::kWrite, true, false, false},
                      IoCase{FaultFs::Op::kSync, false, false, false},
                      IoCase{FaultFs::Op::kSync, true, false, false},
                      IoCase{FaultFs::Op::kRead, false, false, false},
                      IoCase{FaultFs::Op::kRead, true, false, false},
                      IoCase{FaultFs::Op::kWrite, true, true, false},
                      IoCase{FaultFs::Op::kWrite, false, false, true},
                      IoCase{FaultFs::Op::kSync, true, false, true},
                      IoCase{FaultFs::Op::kRead, false, false, true}),
    IoCaseName);

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
