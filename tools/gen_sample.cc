// rocksmigrate-gen: creates a NEW database of N version-1 task records, for
// the demo and for trying the admin tool on realistic data.
//
//   rocksmigrate-gen --db PATH --count N [--prefix task:] [--seed S]
//
// Keys are `<prefix><id>` with the id zero-padded to 8 digits (more when N
// needs it); values are ~200-byte JSON objects with "schema_version": 1.
// The same seed gives the same bytes. Writes go in large WriteBatches with
// the WAL on, then a flush, so the database is durable when the tool exits.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace {

constexpr char kUsage[] =
    "usage: rocksmigrate-gen --db PATH --count N [--prefix task:] [--seed S]\n"
    "creates a new database at PATH holding N version-1 task records\n";
constexpr size_t kBatchRecords = 10000;

const char* const kVerbs[] = {"review", "fix",     "write",  "update",
                              "design", "migrate", "deploy", "test",
                              "plan",   "document"};
const char* const kThings[] = {
    "the quarterly report", "the login page",     "the billing service",
    "the onboarding flow",  "the search index",   "the backup job",
    "the release notes",    "the API gateway",    "the mobile client",
    "the data pipeline",    "the on-call runbook", "the pricing table"};
const char* const kStatuses[] = {"open", "in_progress", "blocked", "done"};
const char* const kTags[] = {"backend", "frontend", "urgent", "infra",
                             "customer", "security", "docs",   "tech-debt"};

template <size_t N>
const char* Pick(const char* const (&list)[N], std::mt19937_64& rng) {
  return list[rng() % N];
}

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
  std::mt19937_64 rng(seed);
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions write_options;  // WAL on.
  std::string key;
  char value[512];
  const int64_t base_time = 1767225600;  // 2026-01-01T00:00:00Z.
  for (uint64_t id = 1; id <= count; ++id) {
    key = absl::StrFormat("%s%0*d", prefix, id_width, id);
    const int64_t created = base_time + static_cast<int64_t>(rng() % 31536000);
    const time_t created_t = static_cast<time_t>(created);
    struct tm tm_utc;
    gmtime_r(&created_t, &tm_utc);
    char created_at[32];
    strftime(created_at, sizeof(created_at), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
    const int n = std::snprintf(
        value, sizeof(value),
        "{\"id\":%" PRIu64 ",\"title\":\"Task %" PRIu64
        ": %s %s\",\"status\":\"%s\",\"priority\":%d,\"owner\":\"user-%04d\","
        "\"created_at\":\"%s\",\"tags\":[\"%s\",\"%s\"],\"estimate_hours\":%d,"
        "\"schema_version\":1}",
        id, id, Pick(kVerbs, rng), Pick(kThings, rng), Pick(kStatuses, rng),
        static_cast<int>(rng() % 4) + 1, static_cast<int>(rng() % 5000),
        created_at, Pick(kTags, rng), Pick(kTags, rng),
        static_cast<int>(rng() % 40) + 1);
    batch.Put(key, rocksdb::Slice(value, static_cast<size_t>(n)));
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
