// Tests of src/step_pipeline.h: the reader replaces its iterator every
// PipelineOptions::iterator_refresh_bytes without skipping, repeating or
// reordering a key, and without reading back what the consumer wrote.
#include "src/step_pipeline.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/keys.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace {

using testing::Dump;
using testing::TempDir;
using testing::TestDb;

constexpr int kRecords = 3000;

std::string Key(int i) { return absl::StrFormat("task:%06d", i); }
std::string Original(int i) { return absl::StrFormat("{\"v\":1,\"i\":%d}", i); }

struct Seen {
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

// Scans "task:" with `refresh_bytes`, two workers and batches of 7 records.
// The consumer overwrites every record it is handed (as a step does, behind
// the reader), flushes every 5th batch so that memtables turn into SST files
// under the reader, and calls `on_batch` with the batch's number.
Seen Scan(TestDb* db, size_t refresh_bytes,
          const std::function<void(int)>& on_batch = [](int) {}) {
  PipelineOptions options;
  options.workers = 2;
  options.batch_items = 7;
  options.iterator_refresh_bytes = refresh_bytes;
  ScanRange range;
  range.range.begin = "task:";
  range.range.end = *PrefixSuccessor("task:");
  Seen seen;
  int batches = 0;
  absl::Status s = RunPipeline(
      db->db(), {range}, options,
      [](RawBatch& raw, PreparedBatch* prepared) {
        for (RawItem& item : raw.items) {
          Change c;
          c.key = item.key;
          c.old_value = item.value;
          c.new_value = "migrated";
          prepared->changes.push_back(std::move(c));
        }
      },
      [&](PreparedBatch& batch) -> absl::Status {
        rocksdb::WriteBatch wb;
        for (const Change& c : batch.changes) {
          seen.keys.push_back(c.key);
          seen.values.push_back(c.old_value);
          wb.Put(c.key, c.new_value);
        }
        rocksdb::Status ws = db->db()->Write(rocksdb::WriteOptions(), &wb);
        if (!ws.ok()) return absl::InternalError(ws.ToString());
        if (++batches % 5 == 0) {
          ws = db->db()->Flush(rocksdb::FlushOptions());
          if (!ws.ok()) return absl::InternalError(ws.ToString());
        }
        on_batch(batches);
        return absl::OkStatus();
      });
  EXPECT_TRUE(s.ok()) << s;
  return seen;
}

class StepPipelineRefreshTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    db_ = TestDb::Open(dir_.Sub("db"));
    Dump records;
    for (int i = 0; i < kRecords; ++i) records[Key(i)] = Original(i);
    records["note:1"] = "outside";
    records["tasks:1"] = "outside";
    db_->Put(records);
  }
  TempDir dir_;
  std::unique_ptr<TestDb> db_;
};

TEST_P(StepPipelineRefreshTest, VisitsEveryKeyOnceInOrderWithItsOriginalValue) {
  Seen seen = Scan(db_.get(), GetParam());
  ASSERT_EQ(seen.keys.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(seen.keys[i], Key(i)) << "at position " << i;
    ASSERT_EQ(seen.values[i], Original(i)) << Key(i);
  }
  Dump after = db_->DumpAll();
  EXPECT_EQ(after["note:1"], "outside");
  EXPECT_EQ(after["tasks:1"], "outside");
  EXPECT_EQ(after[Key(kRecords - 1)], "migrated");
}

// 1 byte: a new iterator after every record; 300 bytes: every few records;
// no limit: one iterator for the whole scan.
INSTANTIATE_TEST_SUITE_P(RefreshSizes, StepPipelineRefreshTest,
                         ::testing::Values(size_t{1}, size_t{300},
                                           std::numeric_limits<size_t>::max()));

TEST(StepPipelineTest, ARefreshedIteratorSeesAKeyAddedAheadOfTheReader) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < kRecords; ++i) records[Key(i)] = Original(i);
  db->Put(records);
  const std::string added = "task:zzz-added";
  // The reader is at most a few batches ahead of the first one consumed,
  // far from the end of 3000 records, when the key is added.
  Seen seen = Scan(db.get(), 1, [&](int batch) {
    if (batch == 1) db->Put(added, "added later");
  });
  ASSERT_EQ(seen.keys.size(), static_cast<size_t>(kRecords + 1));
  EXPECT_EQ(seen.keys.back(), added);
  EXPECT_EQ(seen.values.back(), "added later");
}

}  // namespace
}  // namespace rocksmigrate
