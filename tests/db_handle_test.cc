// DbHandle: opening with every column family, the backup column family, the
// refusal to create a database, and the secondary instance beside a process
// that holds the database.
#include "rocksmigrate/utilities/db_handle.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/convenience.h"
#include "rocksdb/table.h"
#include "tests/cli_test_util.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace testing {
namespace {

using ::testing::HasSubstr;

std::string Get(const DbHandle& h, const std::string& key,
                rocksdb::ColumnFamilyHandle* cf = nullptr) {
  std::string value;
  rocksdb::Status s = h.db()->Get(
      rocksdb::ReadOptions(), cf != nullptr ? cf : h.db()->DefaultColumnFamily(),
      key, &value);
  return s.ok() ? value : "<" + s.ToString() + ">";
}

TEST(DbHandleTest, NothingCreatesADatabase) {
  TempDir dir;
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto h = DbHandle::Open(dir.Sub("missing"), mode);
    ASSERT_THAT(h, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(h.status().message()),
                HasSubstr("no database at " + dir.Sub("missing")));
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("missing")));
    // An empty directory is not a database either.
    EXPECT_THAT(DbHandle::Open(dir.path(), mode),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(DbHandleTest, OpensAsATransactionDbWithEveryColumnFamily) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  LdbPut(path, {{"task:1", "v1"}});
  {
    auto h = DbHandle::Open(path, OpenMode::kReadWrite);
    ASSERT_THAT(h, IsOk());
    EXPECT_FALSE((*h)->is_secondary());
    EXPECT_NE(dynamic_cast<rocksdb::TransactionDB*>((*h)->db()), nullptr);
    EXPECT_EQ((*h)->backup_column_family(), nullptr);
    EXPECT_EQ(Get(**h, "task:1"), "v1");
  }
  {
    auto h = DbHandle::Open(path, OpenMode::kReadWrite, rocksdb::Options(),
                            kBackupColumnFamily);
    ASSERT_THAT(h, IsOk());
    rocksdb::ColumnFamilyHandle* cf = (*h)->backup_column_family();
    ASSERT_NE(cf, nullptr);
    EXPECT_EQ(cf->GetName(), kBackupColumnFamily);
    ASSERT_TRUE((*h)->db()->Put(rocksdb::WriteOptions(), cf, "b", "x").ok());
  }
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto h = DbHandle::Open(path, mode);  // The family is found again.
    ASSERT_THAT(h, IsOk());
    ASSERT_NE((*h)->backup_column_family(), nullptr);
    EXPECT_EQ(Get(**h, "b", (*h)->backup_column_family()), "x");
    EXPECT_EQ(Get(**h, "task:1"), "v1");
  }
}

// A backup column family the handle creates is zstd-compressed (where the
// library has zstd), and stays so on later opens (RocksDB's OPTIONS file).
TEST(DbHandleTest, ABackupColumnFamilyItCreatesIsZstdCompressed) {
  const std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kZSTD) ==
      supported.end()) {
    GTEST_SKIP() << "this RocksDB has no zstd";
  }
  TempDir dir;
  const std::string path = dir.Sub("db");
  LdbPut(path, {{"task:1", "v1"}});
  { ASSERT_THAT(DbHandle::Open(path, OpenMode::kReadWrite, rocksdb::Options(),
                               kBackupColumnFamily), IsOk()); }
  {
    auto h = DbHandle::Open(path, OpenMode::kReadWrite);
    ASSERT_THAT(h, IsOk());
    rocksdb::ColumnFamilyDescriptor backup, data;
    ASSERT_TRUE((*h)->backup_column_family()->GetDescriptor(&backup).ok());
    ASSERT_TRUE(
        (*h)->db()->DefaultColumnFamily()->GetDescriptor(&data).ok());
    EXPECT_EQ(backup.options.compression, rocksdb::kZSTD);
    // The user's own column family keeps what it had.
    EXPECT_NE(data.options.compression, rocksdb::kZSTD);
  }
}

TEST(DbHandleTest, LockedDatabaseIsUnavailableForWritesAndReadAsSecondary) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  LdbPut(path, {{"task:1", "v1"}, {"task:2", "v2"}});
  DbHolder server(path);

  auto writer = DbHandle::Open(path, OpenMode::kReadWrite);
  ASSERT_THAT(writer, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(writer.status().message()),
              HasSubstr("locked by another process (pid "));

  // The secondary keeps its files in a fresh directory under $TMPDIR and
  // removes it when closed.
  const std::string tmp = dir.Sub("tmp");
  ASSERT_TRUE(std::filesystem::create_directory(tmp));
  const char* old_tmpdir = getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  setenv("TMPDIR", tmp.c_str(), 1);
  {
    auto reader = DbHandle::Open(path, OpenMode::kReadOnly);
    ASSERT_THAT(reader, IsOk());
    EXPECT_TRUE((*reader)->is_secondary());
    EXPECT_EQ(Get(**reader, "task:2"), "v2");
    EXPECT_EQ(Get(**reader, "task:1"), "v1");
    ASSERT_EQ(std::distance(std::filesystem::directory_iterator(tmp),
                            std::filesystem::directory_iterator()),
              1);
    EXPECT_THAT(std::filesystem::directory_iterator(tmp)->path().filename().string(),
                ::testing::StartsWith("rocksmigrate-secondary-"));
  }
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  if (old_tmpdir != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
}

// An I/O error at open is "locked" only when another process holds the
// LOCK file (asked of the file itself), never because the error's text
// holds "lock": a path with "block" or "clock" in it used to turn any I/O
// error into "locked".
TEST(DbHandleTest, AnIoErrorOnAPathNamedLikeALockIsNotCalledLocked) {
  TempDir dir;
  const std::string path = dir.Sub("clock-block-LOCK");
  LdbPut(path, {{"task:1", "v1"}});
  // Damage the database so that opening it fails with an I/O error.
  const std::string current =
      (std::filesystem::path(path) / "CURRENT").string();
  WriteFileOrDie(current, "MANIFEST-999999\n");
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto h = DbHandle::Open(path, mode);
    ASSERT_FALSE(h.ok());
    EXPECT_FALSE(absl::IsUnavailable(h.status())) << h.status();
    EXPECT_THAT(std::string(h.status().message()),
                ::testing::Not(HasSubstr("locked")));
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(path));
  }
}

// A read command killed before it closed leaves its secondary's scratch
// directory; the next read-only open removes the ones whose process is
// gone, and leaves a live process's alone.
TEST(DbHandleTest, ScratchDirectoriesOfKilledReadersAreRemoved) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  LdbPut(path, {{"task:1", "v1"}});
  const std::string tmp = dir.Sub("tmp");
  ASSERT_TRUE(std::filesystem::create_directory(tmp));
  // A process that has exited: its pid is free.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  int status = 0;
  ASSERT_EQ(waitpid(dead, &status, 0), dead);
  const std::string stale =
      tmp + "/rocksmigrate-secondary-" + std::to_string(dead) + "-abcdef";
  const std::string live = tmp + "/rocksmigrate-secondary-" +
                           std::to_string(getppid()) + "-abcdef";
  const std::string other = tmp + "/rocksmigrate-secondary-notapid";
  for (const std::string& d : {stale, live, other}) {
    ASSERT_TRUE(std::filesystem::create_directory(d));
    WriteFileOrDie(d + "/LOG", "x");
  }
  const char* old_tmpdir = getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  setenv("TMPDIR", tmp.c_str(), 1);
  {
    auto reader = DbHandle::Open(path, OpenMode::kReadOnly);
    ASSERT_THAT(reader, IsOk());
  }
  if (old_tmpdir != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(other));
}

TEST(DbHandleTest, ReadOnlyNeverTakesTheLock) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  LdbPut(path, {{"task:1", "v1"}});
  auto h = DbHandle::Open(path, OpenMode::kReadOnly);
  ASSERT_THAT(h, IsOk());
  EXPECT_TRUE((*h)->is_secondary());
  EXPECT_EQ(Get(**h, "task:1"), "v1");
  // A server may open the database while the tool reads it.
  auto primary = DbHandle::Open(path, OpenMode::kReadWrite);
  ASSERT_THAT(primary, IsOk());
  EXPECT_FALSE((*primary)->is_secondary());
}

constexpr int kFiles = 8;
constexpr int kRecordsPerFile = 5000;

// Options with 512-byte blocks (a table option that is part of what the
// database writes; small, so that index blocks outweigh the rest of a table
// reader).
rocksdb::Options SmallBlockOptions() {
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 512;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.disable_auto_compactions = true;
  return options;
}

// Writes kFiles SST files of kRecordsPerFile records each.
void MakeDbWithFiles(const std::string& path) {
  rocksdb::Options options = SmallBlockOptions();
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (int f = 0; f < kFiles; ++f) {
    for (int i = 0; i < kRecordsPerFile; ++i) {
      char key[32];
      snprintf(key, sizeof(key), "task:%02d:%06d", f, i);
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, std::string(100, 'v')).ok());
    }
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  }
}

uint64_t TableReadersAfterFullScan(rocksdb::DB* db) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, kFiles * kRecordsPerFile);
  uint64_t bytes = 0;
  EXPECT_TRUE(db->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &bytes));
  return bytes;
}

// Index and filter blocks live in one bounded block cache, not on the heap
// per open file; the table options the database was written with are kept.
TEST(DbHandleTest, KeepsIndexBlocksInABoundedCache) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  MakeDbWithFiles(path);
  uint64_t plain_readers = 0;
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(SmallBlockOptions(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    plain_readers = TableReadersAfterFullScan(db.get());
  }
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto h = DbHandle::Open(path, mode);
    ASSERT_THAT(h, IsOk());
    const rocksdb::Options options = (*h)->db()->GetOptions();
    const auto* table =
        options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    ASSERT_NE(table, nullptr);
    EXPECT_TRUE(table->cache_index_and_filter_blocks);
    ASSERT_NE(table->block_cache, nullptr);
    EXPECT_EQ(table->block_cache->GetCapacity(), size_t{8} << 20);
    EXPECT_EQ(table->block_size, size_t{512}) << "persisted option lost";
    // The index blocks a plain open keeps per file are in the cache instead.
    const uint64_t readers = TableReadersAfterFullScan((*h)->db());
    EXPECT_LT(readers * 4, plain_readers)
        << "table readers hold " << readers << " bytes, a plain open "
        << plain_readers;
  }
}

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
