// rocksmigrate-gen: creates a NEW database of N version-1 task records, for
// the demo and for trying the admin tool on realistic data.
//
//   rocksmigrate-gen --db PATH --count N [--prefix task:] [--seed S]
//
// Keys are `<prefix><id>` with the id zero-padded to 8 digits (more when N
// needs it); values are ~230-byte JSON task objects with "schema_version": 1
// from the same generator as the benchmarks' (tools/sample/sample_data.h),
// the key as their "id". The same seed gives the same bytes. Writes go in large WriteBatches with
// the WAL on, then a flush, so the database is durable when the tool exits.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tools/sample/sample_data.h"

namespace {

constexpr char kUsage[] =
    "usage: rocksmigrate-gen --db PATH --count N [--prefix task:] [--seed S]\n"
    "creates a new database at PATH holding N version-1 task records\n";
constexpr size_t kBatchRecords = 10000;

int Fail(const std::string& message) {
  std::cerr << "error: " << message << '\n';
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path;
  std::string prefix = "task:";
  uint64_t count = 0;
  uint64_t seed = 42;
  bool have_count = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) return Fail(absl::StrCat(flag, " needs a value"));
    const std::string value = argv[++i];
    if (flag == "--db") {
      db_path = value;
    } else if (flag == "--prefix") {
      prefix = value;
    } else if (flag == "--count") {
      if (!absl::SimpleAtoi(value, &count)) {
        return Fail(absl::StrCat("--count needs a number, not \"", value, "\""));
      }
      have_count = true;
    } else if (flag == "--seed") {
      if (!absl::SimpleAtoi(value, &seed)) {
        return Fail(absl::StrCat("--seed needs a number, not \"", value, "\""));
      }
    } else {
      return Fail(absl::StrCat("unknown flag ", flag, "\n", kUsage));
    }
  }
  if (db_path.empty() || !have_count) {
    return Fail(absl::StrCat("--db and --count are required\n", kUsage));
  }
  if (prefix.empty() || prefix[0] == '_') {
    return Fail("--prefix must be non-empty and not start with '_'");
  }
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec) &&
      !(std::filesystem::is_directory(db_path, ec) &&
        std::filesystem::is_empty(db_path, ec))) {
    return Fail(absl::StrCat(db_path,
                             " already exists; rocksmigrate-gen only creates "
                             "new databases (remove it first)"));
  }

  const auto start = std::chrono::steady_clock::now();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.IncreaseParallelism(2);
  options.write_buffer_size = 128 << 20;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, db_path, &raw_db);
  if (!s.ok()) return Fail(absl::StrCat("cannot create ", db_path, ": ", s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw_db);

  const int id_width = std::max<int>(8, static_cast<int>(absl::StrCat(count).size()));
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions write_options;  // WAL on.
  std::string key;
  for (uint64_t id = 1; id <= count; ++id) {
    key = absl::StrFormat("%s%0*d", prefix, id_width, id);
    batch.Put(key, rocksmigrate_sample::TaskValue(seed, id, key));
    if (batch.Count() >= kBatchRecords || id == count) {
      s = db->Write(write_options, &batch);
      if (!s.ok()) return Fail(absl::StrCat("write failed: ", s.ToString()));
      batch.Clear();
    }
  }
  s = db->Flush(rocksdb::FlushOptions());
  if (s.ok()) s = db->SyncWAL();
  if (!s.ok()) return Fail(absl::StrCat("flush failed: ", s.ToString()));
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  std::cerr << absl::StrFormat("created %s with %d v1 records under %s in %.1fs\n",
                               db_path, count, prefix, seconds);
  return 0;
}
