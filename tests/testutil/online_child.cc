// The child process of online_crash_test: a server that starts at once with
// a foreground budget of 0, continues the v1 -> v2 step of "task:" in the
// background, online and paced, and serves a workload of reads and writes
// beside it until the parent kills it with SIGKILL.
//
//   online_child <db path> serve|finish <seed>
//
// serve:  runs the workload until killed.
// finish: waits for the backfill to end, runs the workload 100 ms more,
//         prints "DONE" and exits 0.
//
// Every write is announced on stdout before it is made ("I <key> <n>") and
// acknowledged after it returned OK ("W <key> <n>"), each line one write(2),
// so the parent knows which writes the server acknowledged before the kill.
// A read that returns a record not at v2 prints "STALE <key>" and exits 3;
// any other error prints it and exits 4.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/startup.h"
#include "rocksmigrate/upgrading_reader.h"
#include "tests/testutil/online_child.h"

namespace {

using namespace rocksmigrate;  // NOLINT: a test program.

void Say(const std::string& line) {
  std::string l = line + "\n";
  ssize_t n = ::write(1, l.data(), l.size());
  (void)n;
}

[[noreturn]] void Fail(int code, const std::string& what) {
  Say(what);
  ::_exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::string path = argv[1];
  const std::string mode = argv[2];
  const uint64_t seed = std::strtoull(argv[3], nullptr, 10);

  rocksdb::Options o;
  o.create_if_missing = false;
  rocksdb::TransactionDBOptions to;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(o, to, path, &raw);
  if (!s.ok()) Fail(4, "open: " + s.ToString());
  std::unique_ptr<rocksdb::TransactionDB> db(raw);

  MigrationRegistry registry;
  absl::Status rs = registry.Register(online_child::MakeMigration());
  if (!rs.ok()) Fail(4, rs.ToString());
  auto reader = UpgradingReader::Create(db.get(), &registry);
  if (!reader.ok()) Fail(4, reader.status().ToString());

  MigratorOptions options;
  options.batch_items = online_child::kBatchItems;
  options.threads = 1;
  StartupOptions startup;
  startup.foreground_budget = absl::ZeroDuration();
  startup.when_budget_runs_out =
      StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
  startup.pacing.records_per_second = online_child::kRecordsPerSecond;
  startup.pacing.poll_interval = absl::Milliseconds(5);
  auto handle = MigrateOnStartup(db.get(), registry, options, startup);
  if (!handle.ok()) Fail(4, "startup: " + handle.status().ToString());
  Say("READY");

  std::mt19937_64 rng(seed);
  absl::Time finish_at = absl::InfiniteFuture();
  for (uint64_t op = 0;; ++op) {
    if (mode == "finish" && finish_at == absl::InfiniteFuture() &&
        (*handle)->snapshot().phase != MigrationSnapshot::Phase::kRunning) {
      absl::Status final = (*handle)->Wait();
      if (!final.ok()) Fail(4, "backfill: " + final.ToString());
      finish_at = absl::Now() + absl::Milliseconds(100);
    }
    if (absl::Now() >= finish_at) break;
    const int i = static_cast<int>(rng() % online_child::kTasks);
    const std::string key = online_child::TaskKey(i);
    if (rng() % 3 == 0) {
      // A write of a v2 record, with a number unique to this write.
      const uint64_t n = seed * 1000000 + op;
      Say(absl::StrCat("I ", key, " ", n));
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = db->Put(wo, key, online_child::ServerValue(i, n));
      if (!s.ok()) Fail(4, "put: " + s.ToString());
      Say(absl::StrCat("W ", key, " ", n));
    } else {
      auto got = (*reader)->Get(key);
      if (!got.ok()) Fail(4, "get: " + got.status().ToString());
      if (got->find("\"schema_version\":2") == std::string::npos) {
        Fail(3, absl::StrCat("STALE ", key, " ", *got));
      }
    }
    if (op % 64 == 0) absl::SleepFor(absl::Microseconds(200));
  }
  Say("DONE");
  return 0;
}
