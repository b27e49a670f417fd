// Scenario 5: a flipped byte in an SST file. The run reports corruption,
// never skips a key it could not read, never reports success, and the
// history gets no success entry for the step. The same for a rollback that
// meets a corrupt backup record.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/migrator.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::HistoryOf;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::TempDir;

// The largest .sst file of the database at `path`.
std::string LargestSst(const std::string& path) {
  std::string best;
  off_t best_size = -1;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return best;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".sst") continue;
    struct stat st;
    std::string full = path + "/" + name;
    if (::stat(full.c_str(), &st) == 0 && st.st_size > best_size) {
      best = full;
      best_size = st.st_size;
    }
  }
  ::closedir(d);
  return best;
}

void FlipByte(const std::string& file, double at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good());
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  const std::streamoff pos = static_cast<std::streamoff>(size * at);
  f.seekg(pos);
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(pos);
  f.write(&c, 1);
  ASSERT_TRUE(f.good());
}

bool HistoryHasSuccess(rocksdb::DB* db, int from) {
  for (const auto& e : HistoryOf(db)) {
    if (e["from"] == from && e["status"] == "success") return true;
  }
  return false;
}

// 3,000 task records and a few others, no big ones: small enough to stay in
// one or two SST files, large enough for a flipped byte to hit records.
Dump CorruptionDataset(uint64_t salt) {
  DatasetSpec spec;
  spec.tasks = 3000;
  spec.notes = 5;
  spec.others = 5;
  spec.big = 0;
  return MakeDataset(TestSeed(salt), spec);
}

class CorruptionTest : public ::testing::TestWithParam<double> {};

TEST_P(CorruptionTest, ReportedNeverSkippedNeverSuccess) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Dump v1 = CorruptionDataset(500);
  Model model(v1);
  CreateDb(path, v1);
  const std::string sst = LargestSst(path);
  ASSERT_FALSE(sst.empty());
  FlipByte(sst, GetParam());

  auto db = FaultDb::Open(path);
  ASSERT_THAT(db, IsOk());
  auto registry = MakeRegistry();
  MigratorOptions mo;
  mo.batch_items = 40;
  for (int run = 0; run < 2; ++run) {  // A re-run meets it again.
    auto m = Migrator::Create((*db)->db(), registry.get(), mo);
    ASSERT_THAT(m, IsOk());
    auto r = (*m)->Migrate(2);
    ASSERT_FALSE(r.ok()) << "a run over a corrupt SST reported success";
    EXPECT_TRUE(absl::IsDataLoss(r.status()) ||
                absl::StrContains(r.status().message(), "orrupt"))
        << r.status();
    EXPECT_FALSE(HistoryHasSuccess((*db)->db(), 1));
    std::string version;
    EXPECT_TRUE((*db)->db()
                    ->Get(rocksdb::ReadOptions(), "_schema_version", &version)
                    .IsNotFound())
        << "version moved to " << version;
  }
  // Record by record: the readable records up to the cursor are migrated,
  // every one after it is untouched; some record is unreadable.
  std::string cursor_json;
  ASSERT_TRUE((*db)->db()
                  ->Get(rocksdb::ReadOptions(), "_migration_progress",
                        &cursor_json)
                  .ok());
  auto cursor = nlohmann::json::parse(cursor_json);
  std::string last_key;
  const std::string hex = cursor["last_key_hex"];
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    last_key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  const bool has_last = cursor["has_last_key"];
  int unreadable = 0, migrated = 0;
  bool seen_unreadable = false;
  for (const auto& [k, v] : v1) {
    std::string actual;
    rocksdb::Status s = (*db)->db()->Get(rocksdb::ReadOptions(), k, &actual);
    if (s.IsCorruption()) {
      ++unreadable;
      if (!has_last || k > last_key) {
        seen_unreadable = true;
      }
      continue;
    }
    if (!s.ok() && !s.IsNotFound()) FAIL() << s.ToString();
    std::optional<std::string> got;
    if (s.ok()) got = actual;
    auto after = model.At(2).find(k);
    std::optional<std::string> want_after;
    if (after != model.At(2).end()) want_after = after->second;
    const bool done = has_last && k <= last_key && k.rfind("task:", 0) == 0;
    if (done) {
      EXPECT_EQ(got, want_after) << k << " is before the cursor";
      if (model.Changes(1, k)) ++migrated;
    } else {
      EXPECT_EQ(got, std::optional<std::string>(v))
          << k << " is past the cursor (or outside the step) but changed";
    }
  }
  EXPECT_GT(unreadable, 0) << "the flipped byte hit no record";
  EXPECT_TRUE(seen_unreadable)
      << "the cursor went past a record it could not read";
  std::fprintf(stderr,
               "[fault] corrupt SST at %.2f: %d unreadable, %d migrated before "
               "the cursor\n",
               GetParam(), unreadable, migrated);
}

INSTANTIATE_TEST_SUITE_P(Offsets, CorruptionTest,
                         ::testing::Values(0.05, 0.4, 0.7));

// A flipped byte among a step's backup records, met by the rollback: the
// rollback reports it and never success, the version stays, and every
// readable record holds its bytes before or after the step, never others.
class BackupCorruptionTest : public ::testing::TestWithParam<double> {};

TEST_P(BackupCorruptionTest, RollbackReportsItAndRestoresNothingWrong) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Dump v1 = CorruptionDataset(600);
  Model model(v1);
  CreateDb(path, v1);
  auto registry = MakeRegistry();
  MigratorOptions mo;
  mo.batch_items = 40;
  {
    auto db = FaultDb::Open(path);
    ASSERT_THAT(db, IsOk());
    auto m = Migrator::Create((*db)->db(), registry.get(), mo);
    ASSERT_THAT(m, IsOk());
    ASSERT_THAT((*m)->Migrate(2), IsOk());
  }
  {
    // One file holding everything, in key order: the backup records
    // ("_backup_...") come first, before "note:", "task:" and "user:".
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> plain(raw);
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE(plain->CompactRange(cro, nullptr, nullptr).ok());
  }
  const std::string sst = LargestSst(path);
  ASSERT_FALSE(sst.empty());
  FlipByte(sst, GetParam());

  auto db = FaultDb::Open(path);
  ASSERT_THAT(db, IsOk());
  for (int run = 0; run < 2; ++run) {  // A re-run meets it again.
    auto m = Migrator::Create((*db)->db(), registry.get(), mo);
    ASSERT_THAT(m, IsOk());
    auto r = (*m)->Rollback(1);
    ASSERT_FALSE(r.ok()) << "a rollback over a corrupt backup reported success";
    EXPECT_TRUE(absl::IsDataLoss(r.status()) ||
                absl::StrContains(r.status().message(), "orrupt"))
        << r.status();
    std::string version;
    ASSERT_TRUE((*db)->db()
                    ->Get(rocksdb::ReadOptions(), "_schema_version", &version)
                    .ok());
    EXPECT_EQ(version, "2") << "the version moved although the rollback failed";
    const std::string history = HistoryOf((*db)->db()).dump();
    EXPECT_FALSE(absl::StrContains(history, "rolled_back")) << history;
  }
  int unreadable = 0, restored = 0;
  for (const auto& [k, v] : v1) {
    std::string actual;
    rocksdb::Status s = (*db)->db()->Get(rocksdb::ReadOptions(), k, &actual);
    if (s.IsCorruption()) {
      ++unreadable;
      continue;
    }
    if (!s.ok() && !s.IsNotFound()) FAIL() << k << ": " << s.ToString();
    std::optional<std::string> got;
    if (s.ok()) got = actual;
    std::optional<std::string> at2;
    if (auto it = model.At(2).find(k); it != model.At(2).end()) at2 = it->second;
    EXPECT_TRUE(got == std::optional<std::string>(v) || got == at2)
        << k << " holds bytes of neither version";
    if (model.Changes(1, k) && got == std::optional<std::string>(v)) ++restored;
  }
  std::fprintf(stderr,
               "[fault] corrupt backup at %.2f: %d records unreadable, %d "
               "restored before the corrupt backup\n",
               GetParam(), unreadable, restored);
}

INSTANTIATE_TEST_SUITE_P(Offsets, BackupCorruptionTest,
                         ::testing::Values(0.05, 0.25));

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
