// A server that starts at once while its records are migrated in the
// background (README "Zero-downtime migration"): it opens a TransactionDB,
// calls MigrateOnStartup() with a foreground budget, serves reads and
// writes from several threads through an UpgradingReader during the
// backfill, and reports readiness and progress from the handle, as a
// health endpoint would.
//
//   online_server DB_PATH [--seed N] [--budget-ms MS] [--serve-ms MS]
//                 [--rate RECORDS_PER_SECOND] [--pause-file PATH]
//                 [--migrations DIR]
//
// --seed N      first writes N v1 task records (something to migrate).
// --budget-ms   the foreground budget (default 0: serve at once).
// --serve-ms    how long to serve after the backfill is done (default 500).
// --rate        the backfill's pacing (default: the library's default).
// --pause-file  while this file exists, the backfill pauses.
// --migrations  register the JSON migration files of DIR instead of the
//               C++ Task v1 -> v2 migration (so that `rocksmigrate status
//               --migrations DIR` knows the step the server runs).
// Exits 0 when the backfill finished and every read saw a v2 record; 1
// otherwise, with the reason.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "examples/task_v1_to_v2.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/startup.h"
#include "rocksmigrate/upgrading_reader.h"

namespace {

std::string TaskKey(long i) {
  char key[32];
  std::snprintf(key, sizeof(key), "task:%08ld", i);
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s DB_PATH [--seed N] [--budget-ms MS] [--serve-ms MS] "
                 "[--rate N] [--pause-file PATH] [--migrations DIR]\n",
                 argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  long seed = 0, budget_ms = 0, serve_ms = 500, rate = -1;
  std::string pause_file, migrations;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seed") seed = std::atol(argv[i + 1]);
    else if (flag == "--budget-ms") budget_ms = std::atol(argv[i + 1]);
    else if (flag == "--serve-ms") serve_ms = std::atol(argv[i + 1]);
    else if (flag == "--rate") rate = std::atol(argv[i + 1]);
    else if (flag == "--pause-file") pause_file = argv[i + 1];
    else if (flag == "--migrations") migrations = argv[i + 1];
    else {
      std::fprintf(stderr, "error: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      options, rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "error: cannot open %s: %s\n", path.c_str(),
                 s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);
  if (seed > 0) {
    rocksdb::WriteBatch batch;
    for (long i = 0; i < seed; ++i) {
      batch.Put(TaskKey(i), "{\"id\":" + std::to_string(i) +
                                ",\"title\":\"task\",\"schema_version\":1}");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!db->Write(wo, &batch).ok()) return 1;
  }

  // --- The online startup, as the README shows it. ---
  rocksmigrate::MigrationRegistry registry;
  absl::Status registered =
      migrations.empty()
          ? registry.Register(std::make_unique<example::TaskV1ToV2>())
          : rocksmigrate::RegisterMigrationDir(migrations, &registry);
  if (!registered.ok()) {
    std::fprintf(stderr, "error: %s\n", registered.ToString().c_str());
    return 1;
  }
  rocksmigrate::StartupOptions startup;
  startup.foreground_budget = absl::Milliseconds(budget_ms);
  startup.when_budget_runs_out =
      rocksmigrate::StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
  if (rate >= 0) startup.pacing.records_per_second = static_cast<uint64_t>(rate);
  startup.pacing.pause_file = pause_file;
  auto migration = rocksmigrate::MigrateOnStartup(db.get(), registry, {}, startup);
  if (!migration.ok()) {
    std::fprintf(stderr, "error: %s\n", migration.status().ToString().c_str());
    return 1;
  }
  auto reader = rocksmigrate::UpgradingReader::Create(db.get(), &registry);
  if (!reader.ok()) {
    std::fprintf(stderr, "error: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  // --- Serving from here on. ---
  std::printf("ready: serving while the migration is %s\n",
              rocksmigrate::ToString((*migration)->snapshot().phase).c_str());
  std::fflush(stdout);

  const long records = [&] {
    long n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
    for (it->Seek("task:"); it->Valid() && it->key().starts_with("task:"); it->Next()) ++n;
    return n;
  }();
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0}, writes{0}, stale{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3 && records > 0; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (!stop) {
        const long i = static_cast<long>(rng() % records);
        const std::string key = TaskKey(i);
        if (rng() % 4 == 0) {  // The new binary writes v2 records.
          rocksdb::Status ws = db->Put(
              {}, key, "{\"id\":" + std::to_string(i) +
                           ",\"title\":\"edited\",\"depends_on\":[],"
                           "\"related_tasks\":[],\"schema_version\":2}");
          if (ws.ok()) ++writes;
          continue;
        }
        auto v = (*reader)->Get(key);
        ++reads;
        if (!v.ok() || v->find("\"schema_version\":2") == std::string::npos) ++stale;
      }
    });
  }
  // The readiness/health endpoint's view, once a second.
  while (!(*migration)->WaitFor(absl::Seconds(1))) {
    rocksmigrate::MigrationSnapshot m = (*migration)->snapshot();
    std::printf("health: ready, migration %s v%d -> v%d %llu/%llu records, "
                "%.0f records/s, ETA %.0f s%s%s\n",
                rocksmigrate::ToString(m.phase).c_str(), m.step_from, m.step_to,
                static_cast<unsigned long long>(m.items_done),
                static_cast<unsigned long long>(m.items_total_estimate),
                m.items_per_second, m.eta_seconds,
                m.pacing.empty() ? "" : ", ", m.pacing.c_str());
    std::fflush(stdout);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(serve_ms));
  stop = true;
  for (std::thread& w : workers) w.join();
  absl::Status final = (*migration)->Wait();
  std::printf("migration %s; served %ld reads and %ld writes, %ld stale reads\n",
              final.ok() ? "done" : final.ToString().c_str(), reads.load(),
              writes.load(), stale.load());
  return final.ok() && stale == 0 ? 0 : 1;
}
