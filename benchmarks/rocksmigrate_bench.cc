// rocksmigrate-bench: the large-dataset benchmark. Generates N records once
// into a template database, then runs each case on its own fresh copy of it
// (hard-linked SST files, copied metadata) in this process:
//
//   (a) naive       one TransactionDB transaction per record: read, parse,
//                   transform, backup + new value, synced commit;
//   (b) copy limit  Migrator::Migrate with an identity C++ migration (each
//                   value rewritten as it is, no JSON work): the engine's own
//                   read, backup and write path with nothing else to do;
//   (c) default     Migrator::Migrate, Task v1 -> v2 as a C++ JsonMigration,
//                   then as a declarative JSON Patch file, then with backups
//                   in a dedicated column family;
//   dry run         Migrator::DryRun on a fresh copy;
//   rollback        Migrator::Rollback(1) on (c)'s migrated database.
//
// Every case runs with the WAL on and every commit synced. Each case's
// result is checked on a seeded sample of records against bytes computed
// without the engine (tools/sample/sample_data.h); a wrong result exits 1.
//
//   rocksmigrate-bench [--records N | --large] [--big-records] [--threads N]
//                      [--dir DIR]
//                      [--json] [--seed S] [--sample N]
//                      [--baseline-records N] [--baseline-seconds S]
//                      [--cases LIST] [--repeat N] [--keep]
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/sample/sample_data.h"
#include "benchmarks/online_bench.h"
#include "examples/task_v1_to_v2.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/utilities/transaction.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksdb/version.h"
#include "rocksdb/write_batch.h"
#include "rocksmigrate/utilities/allocator.h"
#include "rocksmigrate/utilities/db_handle.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "src/backup_store.h"
#include "src/keys.h"
#include "src/metadata.h"

namespace {

namespace fs = std::filesystem;
using rocksmigrate_sample::ExpectedTaskV2;
using rocksmigrate_sample::IsTask;
using rocksmigrate_sample::RecordKey;
using rocksmigrate_sample::RecordValue;

constexpr char kUsage[] =
    "usage: rocksmigrate-bench [--records N | --large] [--big-records]\n"
    "                          [--threads N]\n"
    "                          [--dir DIR] [--json] [--seed S] [--sample N]\n"
    "                          [--baseline-records N] [--baseline-seconds S]\n"
    "                          [--cases LIST] [--repeat N] [--keep]\n"
    "       rocksmigrate-bench --online|--online-json [--records N] [--threads N]\n"
    "                          [--dir DIR]\n"
    "                          [--json] [--seed S] [--keep]\n"
    "       rocksmigrate-bench --memory-scaling [--repeat N] [--threads N]\n"
    "                          [--dir DIR] [--json] [--seed S] [--keep]\n"
    "\n"
    "  --records N           records to generate (default 2000000)\n"
    "  --large               --records 10000000\n"
    "  --big-records         task values of 2 to 4 KiB (a \"notes\" member)\n"
    "                        instead of ~230 bytes\n"
    "  --threads N           MigratorOptions::threads (default 0 = cores)\n"
    "  --dir DIR             where the temporary databases go (default /tmp)\n"
    "  --json                one JSON document on stdout (table on stderr)\n"
    "  --seed S              dataset and sample seed (default 42)\n"
    "  --sample N            records checked per case (default 1000)\n"
    "  --baseline-records N  cap on the records the naive baseline times\n"
    "                        (default 300000; 0 = all)\n"
    "  --baseline-seconds S  ...and on the time it may take: it stops after\n"
    "                        the first S seconds (default 60; 0 = no limit)\n"
    "  --cases LIST          comma-separated subset of: naive,copy,cpp,\n"
    "                        rollback,declarative,backup_cf,dryrun\n"
    "                        (default: all; rollback needs cpp)\n"
    "  --repeat N            run each case N times, each on a fresh copy, and\n"
    "                        report the median time (default 1)\n"
    "  --keep                keep the temporary directory\n"
    "  --online              instead of the cases: a light server load (reads\n"
    "                        through an UpgradingReader, a few writes) idle,\n"
    "                        then beside an online backfill at the default\n"
    "                        pacing, then unthrottled; read p99/p99.9, rates,\n"
    "                        lost updates and stale reads (JSON: \"online\");\n"
    "                        the C++ JsonMigration, or with --online-json the\n"
    "                        JSON Patch file\n"
    "  --memory-scaling      instead of the cases: the default C++ path on\n"
    "                        1,000,000 and on 10,000,000 records, --repeat\n"
    "                        times each (use 3), and the ratio of the largest\n"
    "                        peak RSS at 10M to the largest at 1M\n"
    "\n"
    "exit status: 0 done, 1 a case failed or produced wrong bytes, 2 usage\n";

const char* const kAllCases[] = {"naive",       "copy",      "cpp", "rollback",
                                 "declarative", "backup_cf", "dryrun"};

constexpr char kNaiveBackupId[] = "_backup_naive";

struct Config {
  uint64_t records = 2000000;
  uint64_t baseline_records = 300000;
  double baseline_seconds = 60;
  int threads = 0;
  std::string dir = "/tmp";
  bool json = false;
  uint64_t seed = 42;
  uint64_t sample = 1000;
  std::set<std::string> cases;
  int repeat = 1;
  bool keep = false;
  bool memory_scaling = false;
  bool online = false;
  bool online_json = false;  // --online with the JSON Patch file.
  bool mmap_threshold_fixed = false;  // rocksmigrate::FixMmapThreshold() worked.
};

// What the generator wrote.
struct DataStats {
  uint64_t records = 0;
  uint64_t tasks = 0;
  uint64_t notes = 0;
  uint64_t task_bytes = 0;  // Keys + values of the task records.
  uint64_t value_bytes = 0; // Values of all records.
  double seconds = 0;
  uint64_t sst_files = 0;
  uint64_t disk_bytes = 0;
};

// What the process's memory was made of at the sample where its RSS was
// largest. Every field is -1 when it was never sampled.
struct MemoryAtPeak {
  int64_t rss = -1;            // VmRSS at that sample.
  int64_t memtables = -1;      // rocksdb.size-all-mem-tables, all CFs.
  int64_t table_readers = -1;  // rocksdb.estimate-table-readers-mem (index
                               // and filter blocks held outside the cache).
  int64_t block_cache = -1;    // rocksdb.block-cache-usage.
  int64_t heap_in_use = -1;    // mallinfo2: bytes handed out by malloc.
  int64_t heap_free = -1;      // mallinfo2: bytes malloc holds but not in use.
};

struct CaseResult {
  std::string id;     // Stable name for --json.
  std::string label;  // Table row.
  uint64_t records = 0;
  uint64_t bytes = 0;  // Keys + original values of the records processed.
  double seconds = 0;
  int64_t peak_rss_kib = -1;
  int64_t memtables_peak_bytes = -1;  // Sampled; see MemorySampler.
  MemoryAtPeak memory;  // The breakdown at the largest sampled RSS.
  double cpu_seconds = 0;  // User + system time of the whole process.
  bool ran = false;
  bool ok = false;
  std::string check;  // "ok (N sampled)" or what was wrong.
  std::string note;
  // With --repeat: the records/s of every repetition, in run order.
  std::vector<double> rates;

  double rate() const { return seconds > 0 ? records / seconds : 0; }
  double cpu_us_per_record() const {
    return records > 0 ? cpu_seconds * 1e6 / records : 0;
  }
  double mb_per_s() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
};

// The allocator setting every case runs under, for the header.
std::string AllocatorSetting(const Config& cfg) {
  return cfg.mmap_threshold_fixed
             ? absl::StrCat("glibc mmap threshold fixed at ",
                            rocksmigrate::kMmapThresholdBytes >> 10,
                            " KiB, as in the rocksmigrate tool")
             : "allocator NOT tuned (not glibc): peaks include heap fragments";
}

// One line: the RSS breakdown at a case's largest sampled RSS.
std::string MemoryLine(const MemoryAtPeak& m) {
  auto mib = [](int64_t bytes) {
    return bytes < 0 ? std::string("n/a") : absl::StrFormat("%.1f", bytes / 1048576.0);
  };
  return absl::StrCat("at the RSS peak (MiB): rss ", mib(m.rss), " = memtables ",
                      mib(m.memtables), " + table readers ", mib(m.table_readers),
                      " + block cache ", mib(m.block_cache), " + other; heap in use ",
                      mib(m.heap_in_use), ", heap free ", mib(m.heap_free));
}

std::string Commas(uint64_t n) {
  std::string digits = absl::StrCat(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Progress and diagnostics go to stderr, so --json keeps stdout clean.
void Say(const std::string& line) { std::cerr << "[bench] " << line << std::endl; }

// User + system CPU seconds of the process so far, every thread included
// (RocksDB's flushes and compactions too).
double CpuSeconds() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------
// Machine and memory.

int Cores() {  // What nproc prints: the CPUs this process may run on.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

std::string ReadField(const std::string& file, const std::string& field) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return std::string();
}

std::string FsType(const std::string& path) {
  struct statfs st;
  if (statfs(path.c_str(), &st) != 0) return "unknown";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794C7630: return "overlayfs";
    default: return absl::StrFormat("fs 0x%x", static_cast<unsigned long>(st.f_type));
  }
}

// Resets the peak RSS (VmHWM) to the current RSS. Freed heap is returned to
// the kernel first so that one case's garbage does not count in the next.
bool ResetPeakRss() {
  malloc_trim(0);
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return out.good();
}

int64_t PeakRssKib() {
  std::string hwm = ReadField("/proc/self/status", "VmHWM");
  int64_t kib = -1;
  if (!absl::SimpleAtoi(hwm.substr(0, hwm.find(' ')), &kib)) return -1;
  return kib;
}

int64_t CurrentRssBytes() {
  std::string rss = ReadField("/proc/self/status", "VmRSS");
  int64_t kib = -1;
  if (!absl::SimpleAtoi(rss.substr(0, rss.find(' ')), &kib)) return -1;
  return kib * 1024;
}

// Polls the RSS and RocksDB's memory properties every 20 ms while alive.
// Keeps the largest memtable total (active + immutable + pinned, all column
// families) and the breakdown at the sample with the largest RSS: it tells
// how much of a case's peak is RocksDB's write buffers, its table readers,
// its block cache, or our heap.
class MemorySampler {
 public:
  explicit MemorySampler(rocksdb::DB* db)
      : db_(db), thread_([this] { Loop(); }) {}
  ~MemorySampler() { Stop(); }

  // Stops sampling; returns the largest memtable total seen, in bytes.
  int64_t Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return max_memtables_;
  }
  // Valid after Stop().
  const MemoryAtPeak& at_peak() const { return at_peak_; }

 private:
  int64_t Property(const char* name) {
    uint64_t bytes = 0;
    if (!db_->GetAggregatedIntProperty(name, &bytes)) return -1;
    return static_cast<int64_t>(bytes);
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      MemoryAtPeak now;
      now.rss = CurrentRssBytes();
      now.memtables = Property("rocksdb.size-all-mem-tables");
      now.table_readers = Property("rocksdb.estimate-table-readers-mem");
      now.block_cache = Property("rocksdb.block-cache-usage");
      struct mallinfo2 mi = mallinfo2();
      now.heap_in_use = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
      now.heap_free = static_cast<int64_t>(mi.fordblks);
      max_memtables_ = std::max(max_memtables_, now.memtables);
      if (now.rss > at_peak_.rss) at_peak_ = now;
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  rocksdb::DB* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t max_memtables_ = 0;
  MemoryAtPeak at_peak_;
  std::thread thread_;
};

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  return absl::StrFormat("%.2f %.2f %.2f", one, five, fifteen);
}

// ---------------------------------------------------------------------------
// The data.

rocksdb::Options DbOptions() {
  // RocksDB's defaults, the same for every case, WAL on. Nothing here is
  // tuned for one case.
  rocksdb::Options options;
  options.create_if_missing = false;
  return options;
}

// Writes records [0, N) in key order into SST files and ingests them into a
// new database at `path`: every record lands in the last level, as in a
// compacted database. (The cases then all start from the same files.)
absl::Status Generate(const Config& cfg, const std::string& path,
                      DataStats* stats) {
  const double start = Now();
  rocksdb::Options options = DbOptions();
  options.create_if_missing = true;
  fs::create_directories(path + ".sst");
  std::vector<std::string> files;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  uint64_t in_file = 0;
  constexpr uint64_t kPerFile = 500000;  // About 110 MB of data a file.
  auto finish = [&]() -> absl::Status {
    if (writer == nullptr) return absl::OkStatus();
    rocksdb::Status s = writer->Finish();
    writer.reset();
    if (!s.ok()) return absl::InternalError("SstFileWriter::Finish: " + s.ToString());
    return absl::OkStatus();
  };
  auto put = [&](uint64_t index) -> absl::Status {
    if (writer == nullptr || in_file >= kPerFile) {
      absl::Status f = finish();
      if (!f.ok()) return f;
      writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(),
                                                        options);
      files.push_back(absl::StrFormat("%s.sst/%06d.sst", path, files.size()));
      rocksdb::Status s = writer->Open(files.back());
      if (!s.ok()) return absl::InternalError("SstFileWriter::Open: " + s.ToString());
      in_file = 0;
    }
    const std::string key = RecordKey(index);
    const std::string value = RecordValue(cfg.seed, index);
    rocksdb::Status s = writer->Put(key, value);
    if (!s.ok()) return absl::InternalError("SstFileWriter::Put: " + s.ToString());
    ++in_file;
    stats->value_bytes += value.size();
    if (IsTask(index)) {
      ++stats->tasks;
      stats->task_bytes += key.size() + value.size();
    } else {
      ++stats->notes;
    }
    return absl::OkStatus();
  };
  // "note:" sorts before "task:": notes first, then tasks, each in index order.
  for (uint64_t i = 9; i < cfg.records; i += 10) {
    absl::Status s = put(i);
    if (!s.ok()) return s;
  }
  for (uint64_t i = 0; i < cfg.records; ++i) {
    if (!IsTask(i)) continue;
    absl::Status s = put(i);
    if (!s.ok()) return s;
    if (i % 2000000 == 0 && i > 0) Say(absl::StrCat("  generated ", i, " records"));
  }
  absl::Status f = finish();
  if (!f.ok()) return f;
  stats->records = stats->tasks + stats->notes;
  stats->sst_files = files.size();

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return absl::InternalError("creating the template: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  s = db->IngestExternalFile(files, ingest);
  if (!s.ok()) return absl::InternalError("ingesting the template: " + s.ToString());
  s = db->Close();
  if (!s.ok()) return absl::InternalError("closing the template: " + s.ToString());
  db.reset();
  fs::remove_all(path + ".sst");
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file()) stats->disk_bytes += entry.file_size();
  }
  stats->seconds = Now() - start;
  return absl::OkStatus();
}

// A fresh copy of the (closed, never again written) template: SST files are
// immutable, so they are hard-linked; everything else is copied.
absl::Status CloneDb(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", to, ": ", ec.message()));
  for (const auto& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK" || name.rfind("LOG", 0) == 0) continue;
    const fs::path target = fs::path(to) / name;
    if (entry.path().extension() == ".sst") {
      fs::create_hard_link(entry.path(), target, ec);
      if (!ec) continue;
      ec.clear();  // Another file system: copy instead.
    }
    fs::copy_file(entry.path(), target, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("copying ", entry.path().string(), ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Checking results.

// The sample: `n` seeded record indexes plus the first and last of each
// prefix.
std::vector<uint64_t> SampleIndexes(const Config& cfg) {
  std::set<uint64_t> picked;
  const uint64_t n = cfg.records;
  for (uint64_t k = 0; k < cfg.sample && n > 0; ++k) {
    picked.insert(rocksmigrate_sample::Mix(cfg.seed ^ 0x5eed5eedULL ^
                                         rocksmigrate_sample::Mix(k)) % n);
  }
  if (n > 0) picked.insert(0);
  if (n > 9) picked.insert(9);
  if (n > 0) picked.insert(IsTask(n - 1) ? n - 1 : n - 2);
  for (uint64_t i = n; i-- > 0;) {
    if (!IsTask(i)) {
      picked.insert(i);
      break;
    }
  }
  return std::vector<uint64_t>(picked.begin(), picked.end());
}

// What record `index` must hold: its original bytes, or the migrated ones.
using Expectation = std::function<std::string(uint64_t index,
                                              const std::string& original)>;

std::string Original(uint64_t, const std::string& original) { return original; }

std::string Migrated(uint64_t index, const std::string& original) {
  return IsTask(index) ? ExpectedTaskV2(original) : original;
}

// Shortens a value for an error message.
std::string Clip(const std::string& s) {
  return s.size() <= 300 ? s : s.substr(0, 300) + "...";
}

// Compares each sampled record with `expect`, and, if `backup_id` is set,
// each sampled task's backup (in `backup_cf`) with its original bytes.
// Returns "" when all match, else what differed (first mismatch + count).
std::string CheckSample(const Config& cfg, rocksdb::DB* db,
                        const Expectation& expect,
                        const std::optional<std::string>& backup_id = std::nullopt,
                        rocksdb::ColumnFamilyHandle* backup_cf = nullptr,
                        const std::string& schema_version = "",
                        uint64_t* checked = nullptr) {
  uint64_t bad = 0, n = 0;
  std::string first;
  auto fail = [&](const std::string& what) {
    if (bad++ == 0) first = what;
  };
  if (!schema_version.empty()) {
    std::string stored;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), rocksmigrate::kSchemaVersionKey, &stored);
    if (schema_version == "-") {
      if (!s.IsNotFound()) fail("_schema_version exists; expected none");
    } else if (!s.ok() || stored != schema_version) {
      fail(absl::StrCat("_schema_version is '", s.ok() ? stored : s.ToString(),
                        "', expected '", schema_version, "'"));
    }
  }
  for (uint64_t index : SampleIndexes(cfg)) {
    ++n;
    const std::string key = RecordKey(index);
    const std::string original = RecordValue(cfg.seed, index);
    const std::string want = expect(index, original);
    if (want.empty()) {
      fail(absl::StrCat("no expected bytes for ", key, " (generator shape?)"));
      continue;
    }
    std::string got;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &got);
    if (!s.ok()) {
      fail(absl::StrCat(key, ": ", s.ToString()));
      continue;
    }
    if (got != want) {
      fail(absl::StrCat(key, " holds\n    ", Clip(got), "\n  expected\n    ",
                        Clip(want)));
      continue;
    }
    if (backup_id && IsTask(index)) {
      std::string backup;
      s = db->Get(rocksdb::ReadOptions(),
                  backup_cf != nullptr ? backup_cf : db->DefaultColumnFamily(),
                  rocksmigrate::BackupRecordKey(*backup_id, key), &backup);
      if (!s.ok() || backup != original) {
        fail(absl::StrCat("backup of ", key, " in ", *backup_id, ": ",
                          s.ok() ? Clip(backup) : s.ToString(),
                          "; expected the original bytes"));
      }
    }
  }
  if (checked != nullptr) *checked = n;
  if (bad == 0) return std::string();
  return absl::StrCat(bad, " of ", n, " sampled checks failed; first: ", first);
}

void Finish(CaseResult* r, const std::string& problem, uint64_t checked) {
  r->ran = true;
  r->ok = problem.empty();
  r->check = problem.empty() ? absl::StrCat("ok (", checked, " sampled)")
                             : "FAILED: " + problem;
}

// ---------------------------------------------------------------------------
// The cases. Each gets a fresh copy at `path`; the timer covers the work
// only (not opening or closing the database); the peak RSS is reset before
// the database is opened, so it includes RocksDB's memory.

// (a) One pessimistic transaction per record, as an application would write
// it without rocksmigrate. Times the first `cap` task records.
CaseResult RunNaive(const Config& cfg, const std::string& path,
                    const DataStats& data) {
  CaseResult r;
  r.id = "naive";
  r.label = "(a) naive: 1 txn/record";
  const uint64_t cap = cfg.baseline_records == 0
                           ? data.tasks
                           : std::min(cfg.baseline_records, data.tasks);
  ResetPeakRss();
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::TransactionDB::Open(
      DbOptions(), rocksdb::TransactionDBOptions(), path, &raw);
  if (!s.ok()) {
    Finish(&r, "open: " + s.ToString(), 0);
    return r;
  }
  std::unique_ptr<rocksdb::TransactionDB> db(raw);
  const std::string upper = *rocksmigrate::PrefixSuccessor(rocksmigrate_sample::kTaskPrefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::string problem;
  std::string last_key;
  MemorySampler sampler(db.get());
  const double cpu_start = CpuSeconds();
  const double start = Now();
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    std::unique_ptr<rocksdb::Transaction> txn;
    std::string value;
    for (it->Seek(rocksmigrate_sample::kTaskPrefix); it->Valid() && r.records < cap;
         it->Next()) {
      // Per-record synced commits are slow; a time budget keeps big runs
      // sane. The rate of the records done is what the ratios use.
      if (cfg.baseline_seconds > 0 && r.records % 64 == 0 &&
          Now() - start > cfg.baseline_seconds) {
        break;
      }
      const std::string key = it->key().ToString();
      txn.reset(db->BeginTransaction(wo, rocksdb::TransactionOptions(), txn.release()));
      s = txn->GetForUpdate(rocksdb::ReadOptions(), key, &value);
      if (s.ok()) {
        const std::string migrated = rocksmigrate_sample::NaiveTransform(value);
        if (migrated.empty()) {
          problem = key + " is not a JSON object";
          break;
        }
        s = txn->Put(rocksmigrate::BackupRecordKey(kNaiveBackupId, key), value);
        if (s.ok()) s = txn->Put(key, migrated);
        if (s.ok()) s = txn->Commit();
      }
      if (!s.ok()) {
        problem = absl::StrCat(key, ": ", s.ToString());
        break;
      }
      ++r.records;
      r.bytes += key.size() + value.size();
      last_key = key;
    }
    if (problem.empty() && !it->status().ok()) problem = it->status().ToString();
  }
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler.Stop();
  r.memory = sampler.at_peak();
  r.peak_rss_kib = PeakRssKib();
  if (r.records < data.tasks) {
    r.note = absl::StrFormat(
        "naive baseline timed on the first %s of %s task records (limits: "
        "--baseline-records %s, --baseline-seconds %g); the ratios use its "
        "rate",
        Commas(r.records), Commas(data.tasks), Commas(cap), cfg.baseline_seconds);
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    // Task records up to last_key are migrated, the others untouched.
    auto expect = [&last_key](uint64_t index, const std::string& original) {
      return IsTask(index) && RecordKey(index) <= last_key
                 ? ExpectedTaskV2(original)
                 : original;
    };
    problem = CheckSample(cfg, db.get(), expect, std::nullopt, nullptr, "", &checked);
  }
  Finish(&r, problem, checked);
  return r;
}

// (b) The copy limit: what the engine's write path costs with no JSON work.
// Rewrites every task record with its own bytes.
class IdentityMigration : public rocksmigrate::Migration {
 public:
  int from() const override { return 1; }
  int to() const override { return 2; }
  std::string name() const override { return "identity"; }
  std::string prefix() const override { return rocksmigrate_sample::kTaskPrefix; }
  absl::StatusOr<rocksmigrate::ItemResult> Migrate(
      std::string_view, std::string_view value) const override {
    return rocksmigrate::ItemResult::Write(std::string(value));
  }
};

enum class MigrationKind { kCpp, kDeclarative, kIdentity };

absl::Status FillRegistry(MigrationKind kind, const std::string& tmp,
                          rocksmigrate::MigrationRegistry* registry) {
  if (kind == MigrationKind::kCpp) {
    return registry->Register(std::make_unique<example::TaskV1ToV2>());
  }
  if (kind == MigrationKind::kIdentity) {
    return registry->Register(std::make_unique<IdentityMigration>());
  }
  const std::string dir = tmp + "/migrations";
  fs::create_directories(dir);
  std::ofstream(dir + "/" + rocksmigrate_sample::kDeclarativeFileName)
      << rocksmigrate_sample::kDeclarativeFile;
  return rocksmigrate::RegisterMigrationDir(dir, registry);
}

rocksmigrate::MigratorOptions MigratorOpts(const Config& cfg) {
  rocksmigrate::MigratorOptions options;  // Defaults: backups on, 1000/4 MiB.
  options.threads = cfg.threads;
  return options;
}

// (c) Migrator::Migrate on a fresh copy; with `rollback`, then
// Migrator::Rollback(1) on the same database as a second result.
std::vector<CaseResult> RunMigrate(const Config& cfg, const std::string& tmp,
                                   const std::string& path,
                                   const DataStats& data, MigrationKind kind,
                                   bool backup_cf, bool rollback) {
  CaseResult r;
  if (backup_cf) {
    r.id = "default_backup_cf";
    r.label = "(c) default, backup CF";
  } else if (kind == MigrationKind::kIdentity) {
    r.id = "copy_limit";
    r.label = "(b) copy limit: identity";
  } else if (kind == MigrationKind::kCpp) {
    r.id = "default_cpp";
    r.label = "(c) default, C++";
  } else {
    r.id = "default_declarative";
    r.label = "(c) default, JSON Patch";
  }
  CaseResult rb;
  rb.id = "rollback";
  rb.label = "rollback v2 -> v1";
  std::vector<CaseResult> out;
  auto done = [&]() {
    out.push_back(r);
    if (rollback) out.push_back(rb);
    return out;
  };

  rocksmigrate::MigrationRegistry registry;
  absl::Status s = FillRegistry(kind, tmp, &registry);
  if (!s.ok()) {
    Finish(&r, "registry: " + s.ToString(), 0);
    return done();
  }
  ResetPeakRss();
  auto opened = rocksmigrate::DbHandle::Open(
      path, rocksmigrate::OpenMode::kReadWrite, DbOptions(),
      backup_cf ? rocksmigrate::kBackupColumnFamily : "");
  if (!opened.ok()) {
    Finish(&r, "open: " + opened.status().ToString(), 0);
    return done();
  }
  std::unique_ptr<rocksmigrate::DbHandle> handle = std::move(opened).value();
  rocksmigrate::MigratorOptions options = MigratorOpts(cfg);
  if (backup_cf) {
    options.backup_column_family = handle->backup_column_family();
    if (options.backup_column_family == nullptr) {
      Finish(&r, "no rocksmigrate_backups column family after open", 0);
      return done();
    }
  }
  auto created = rocksmigrate::Migrator::Create(handle->db(), &registry, options);
  if (!created.ok()) {
    Finish(&r, "Migrator::Create: " + created.status().ToString(), 0);
    return done();
  }
  std::unique_ptr<rocksmigrate::Migrator> migrator = std::move(created).value();

  auto sampler = std::make_unique<MemorySampler>(handle->db());
  double cpu_start = CpuSeconds();
  double start = Now();
  absl::StatusOr<rocksmigrate::RunReport> report = migrator->Migrate();
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler->Stop();
  r.memory = sampler->at_peak();
  r.peak_rss_kib = PeakRssKib();
  r.records = data.tasks;
  r.bytes = data.task_bytes;
  if (!report.ok()) {
    Finish(&r, "Migrate: " + report.status().ToString(), 0);
    return done();
  }
  std::string problem;
  std::optional<std::string> backup_id;
  if (report->steps.size() != 1) {
    problem = absl::StrCat("the run has ", report->steps.size(), " steps, expected 1");
  } else {
    const rocksmigrate::HistoryEntry& e = report->steps[0];
    backup_id = e.backup_id;
    if (e.status != rocksmigrate::StepStatus::kSuccess ||
        e.items_migrated != data.tasks ||
        e.items_skipped != 0 || !e.backup_id) {
      problem = absl::StrCat("step status '", rocksmigrate::ToString(e.status),
                             "', ", e.items_migrated,
                             " migrated, ", e.items_skipped,
                             " skipped, backup ", e.backup_id.value_or("none"),
                             "; expected success, ", data.tasks,
                             " migrated, 0 skipped, a backup");
    }
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    problem = CheckSample(cfg, handle->db(),
                          kind == MigrationKind::kIdentity ? Original : Migrated,
                          backup_id, options.backup_column_family, "2", &checked);
  }
  Finish(&r, problem, checked);
  if (!rollback) return done();
  if (!r.ok) {
    Finish(&rb, "not run: the migration it undoes failed", 0);
    return done();
  }

  ResetPeakRss();
  sampler = std::make_unique<MemorySampler>(handle->db());
  cpu_start = CpuSeconds();
  start = Now();
  absl::StatusOr<rocksmigrate::RunReport> undo = migrator->Rollback(1);
  rb.seconds = Now() - start;
  rb.cpu_seconds = CpuSeconds() - cpu_start;
  rb.memtables_peak_bytes = sampler->Stop();
  rb.memory = sampler->at_peak();
  rb.peak_rss_kib = PeakRssKib();
  rb.records = data.tasks;  // Every backed-up record is restored.
  rb.bytes = data.task_bytes;
  if (!undo.ok()) {
    Finish(&rb, "Rollback: " + undo.status().ToString(), 0);
    return done();
  }
  problem = CheckSample(cfg, handle->db(), Original, std::nullopt, nullptr, "1", &checked);
  Finish(&rb, problem, checked);
  return done();
}

CaseResult RunDryRun(const Config& cfg, const std::string& path,
                     const DataStats& data) {
  CaseResult r;
  r.id = "dry_run";
  r.label = "dry run (C++)";
  rocksmigrate::MigrationRegistry registry;
  absl::Status s = FillRegistry(MigrationKind::kCpp, "", &registry);
  if (!s.ok()) {
    Finish(&r, "registry: " + s.ToString(), 0);
    return r;
  }
  ResetPeakRss();
  auto opened = rocksmigrate::DbHandle::Open(path, rocksmigrate::OpenMode::kReadWrite,
                                             DbOptions());
  if (!opened.ok()) {
    Finish(&r, "open: " + opened.status().ToString(), 0);
    return r;
  }
  std::unique_ptr<rocksmigrate::DbHandle> handle = std::move(opened).value();
  auto created = rocksmigrate::Migrator::Create(handle->db(), &registry, MigratorOpts(cfg));
  if (!created.ok()) {
    Finish(&r, "Migrator::Create: " + created.status().ToString(), 0);
    return r;
  }
  MemorySampler sampler(handle->db());
  const double cpu_start = CpuSeconds();
  const double start = Now();
  absl::StatusOr<rocksmigrate::DryRunReport> report = (*created)->DryRun();
  r.seconds = Now() - start;
  r.cpu_seconds = CpuSeconds() - cpu_start;
  r.memtables_peak_bytes = sampler.Stop();
  r.memory = sampler.at_peak();
  r.peak_rss_kib = PeakRssKib();
  if (!report.ok()) {
    Finish(&r, "DryRun: " + report.status().ToString(), 0);
    return r;
  }
  r.records = report->records_scanned;
  r.bytes = data.task_bytes;
  std::string problem;
  if (report->records_scanned != data.tasks || report->steps.size() != 1 ||
      report->steps[0].items_to_migrate != data.tasks ||
      report->steps[0].items_failed != 0) {
    problem = absl::StrCat(
        "scanned ", report->records_scanned, ", ",
        report->steps.empty() ? 0 : report->steps[0].items_to_migrate,
        " to migrate, ", report->steps.empty() ? 0 : report->steps[0].items_failed,
        " failed; expected ", data.tasks, ", ", data.tasks, ", 0");
  }
  uint64_t checked = 0;
  if (problem.empty()) {
    // A dry run writes nothing.
    problem = CheckSample(cfg, handle->db(), Original, std::nullopt, nullptr, "-", &checked);
  }
  Finish(&r, problem, checked);
  if (r.ok) {
    r.note = absl::StrFormat("DryRunReport's own estimate of the real run: %.1f s",
                             absl::ToDoubleSeconds(report->estimated_duration));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Output.

const CaseResult* Find(const std::vector<CaseResult>& results, const std::string& id) {
  for (const CaseResult& r : results) {
    if (r.id == id && r.ran && r.ok) return &r;
  }
  return nullptr;
}

struct Bar {
  std::string name;
  std::string measured;
  std::string verdict;  // "PASS", "MISS", or why it was not evaluated.
};

std::vector<Bar> Bars(const Config& cfg, const std::vector<CaseResult>& results) {
  std::vector<Bar> bars;
  const CaseResult* c = Find(results, "default_cpp");
  const CaseResult* a = Find(results, "naive");
  const CaseResult* dry = Find(results, "dry_run");
  const CaseResult* rb = Find(results, "rollback");
  auto verdict = [](bool pass) { return std::string(pass ? "PASS" : "MISS"); };
  const std::string at_n = cfg.records == 2000000
                               ? ""
                               : absl::StrCat(" (bar is stated for 2,000,000 records; this run has ",
                                              Commas(cfg.records), ")");
  if (c != nullptr) {
    bars.push_back({"default path >= 150,000 records/s at 2,000,000 records",
                    absl::StrFormat("%.0f records/s", c->rate()),
                    verdict(c->rate() >= 150000) + at_n});
  }
  if (c != nullptr && a != nullptr && a->rate() > 0) {
    bars.push_back({"default path >= 2.5x naive (same run)",
                    absl::StrFormat("%.2fx", c->rate() / a->rate()),
                    verdict(c->rate() >= 2.5 * a->rate())});
  }
  if (c != nullptr) {
    const double mib = c->peak_rss_kib / 1024.0;
    if (cfg.records >= 10000000) {
      bars.push_back({"peak RSS <= 512 MiB at 10,000,000 records",
                      absl::StrFormat("%.1f MiB", mib), verdict(mib <= 512)});
    } else {
      bars.push_back({"peak RSS <= 512 MiB at 10,000,000 records",
                      absl::StrFormat("%.1f MiB", mib), "n/a: run with --large"});
    }
    bars.push_back({"peak RSS at 10M within 1.2x of peak at 1M",
                    absl::StrFormat("%.1f MiB", mib),
                    "measured by --memory-scaling"});
  }
  const CaseResult* patch = Find(results, "default_declarative");
  const CaseResult* copy = Find(results, "copy_limit");
  if (patch != nullptr && copy != nullptr) {
    bars.push_back({"JSON Patch file >= 0.9x copy limit (same run)",
                    absl::StrFormat("%.2fx", patch->rate() / copy->rate()),
                    verdict(patch->rate() >= 0.9 * copy->rate())});
  }
  if (dry != nullptr) {
    bars.push_back({"dry run >= 250,000 records/s",
                    absl::StrFormat("%.0f records/s", dry->rate()),
                    verdict(dry->rate() >= 250000)});
  }
  if (rb != nullptr) {
    bars.push_back({"rollback >= 200,000 records/s",
                    absl::StrFormat("%.0f records/s", rb->rate()),
                    verdict(rb->rate() >= 200000)});
  }
  return bars;
}

struct Machine {
  int cores = 0;
  std::string cpu;
  std::string memory;
  std::string kernel;
  std::string rocksdb;
  std::string fs;
  std::string build;
  std::string revision;
  std::string load_start;
  std::string load_end;
  bool rss_reset = false;
};

Machine DescribeMachine(const Config& cfg) {
  Machine m;
  m.cores = Cores();
  m.cpu = ReadField("/proc/cpuinfo", "model name");
  int64_t mem_kib = 0;
  std::string total = ReadField("/proc/meminfo", "MemTotal");
  if (absl::SimpleAtoi(total.substr(0, total.find(' ')), &mem_kib)) {
    m.memory = absl::StrFormat("%.1f GiB", mem_kib / 1048576.0);
  } else {
    m.memory = total;
  }
  struct utsname u;
  if (uname(&u) == 0) m.kernel = absl::StrCat(u.sysname, " ", u.release);
  m.rocksdb = rocksdb::GetRocksVersionAsString();
  m.fs = FsType(cfg.dir);
#ifdef NDEBUG
  m.build = "optimized (NDEBUG)";
#else
  m.build = "NOT optimized (assertions on): figures are not representative";
#endif
#ifdef RM_BENCH_REVISION
  m.revision = RM_BENCH_REVISION;
#else
  m.revision = "unknown";
#endif
  m.rss_reset = ResetPeakRss();
  m.load_start = LoadAverage();
  return m;
}

void PrintTable(std::ostream& out, const Config& cfg, const Machine& m,
                const DataStats& data, const std::vector<CaseResult>& results,
                const std::vector<Bar>& bars) {
  out << "rocksmigrate-bench\n";
  out << absl::StrFormat("machine : %d cores (nproc), %s, %s RAM, %s\n", m.cores,
                         m.cpu, m.memory, m.kernel);
  out << absl::StrFormat("storage : %s on %s; RocksDB %s\n", cfg.dir, m.fs,
                         m.rocksdb);
  out << absl::StrFormat("engine  : rocksmigrate %s; build %s\n", m.revision,
                         m.build);
  out << absl::StrFormat(
      "data    : %s records = %s task: + %s note: (schema_version 1), avg "
      "value %.0f B, %s B on disk in %d SST files; generated in %.1f s\n",
      Commas(data.records), Commas(data.tasks), Commas(data.notes),
      data.records ? static_cast<double>(data.value_bytes) / data.records : 0.0,
      Commas(data.disk_bytes), data.sst_files, data.seconds);
  out << absl::StrFormat(
      "setup   : WAL on, every commit synced; RocksDB default options; each "
      "case on a fresh copy of one template DB; migrator threads=%d%s; seed %d; %s\n",
      cfg.threads, cfg.threads == 0 ? " (= cores)" : "", cfg.seed, AllocatorSetting(cfg));
  out << absl::StrFormat("load    : %s at the start, %s at the end (1/5/15-min load average; "
                         "other work on the machine slows every case)\n",
                         m.load_start, m.load_end);
  out << "records = task: records processed (note: records are never touched); "
         "MB = 10^6 bytes of keys + original values; CPU us/rec = process CPU "
         "time (all threads) per record; memtab = largest RocksDB memtable total "
         "sampled during the case\n\n";
  out << absl::StrFormat("%-26s %11s %9s %11s %8s %9s %13s %10s  %s\n", "case",
                         "records", "seconds", "records/s", "MB/s", "CPU us/rec",
                         "peak RSS MiB", "memtab MiB", "check");
  std::vector<std::string> notes;
  for (const CaseResult& r : results) {
    std::string label = r.label;
    if (!r.note.empty()) {
      notes.push_back(r.note);
      label += absl::StrCat(" [", notes.size(), "]");
    }
    out << absl::StrFormat(
        "%-26s %11s %9.2f %11s %8.1f %9.1f %13s %10s  %s\n", label,
        Commas(r.records), r.seconds, Commas(static_cast<uint64_t>(r.rate())),
        r.mb_per_s(), r.cpu_us_per_record(),
        r.peak_rss_kib < 0 ? std::string("n/a")
                           : absl::StrFormat("%.1f", r.peak_rss_kib / 1024.0),
        r.memtables_peak_bytes < 0
            ? std::string("n/a")
            : absl::StrFormat("%.1f", r.memtables_peak_bytes / 1048576.0),
        r.check);
  }
  for (size_t i = 0; i < notes.size(); ++i) {
    out << absl::StrFormat("  [%d] %s\n", i + 1, notes[i]);
  }
  const CaseResult* a = Find(results, "naive");
  const CaseResult* b = Find(results, "copy_limit");
  const CaseResult* c = Find(results, "default_cpp");
  out << "\nratios (records/s, (c) = default path with the C++ migration):";
  if (c && a) out << absl::StrFormat("  (c)/(a) = %.2fx", c->rate() / a->rate());
  if (c && b) out << absl::StrFormat("  (c)/(b) = %.2f", c->rate() / b->rate());
  const CaseResult* patch = Find(results, "default_declarative");
  if (patch && b) {
    out << absl::StrFormat("  (c, JSON Patch)/(b) = %.2f", patch->rate() / b->rate());
  }
  if (!(c && (a || b)) && !(patch && b)) out << "  n/a";
  out << "\n\nbars (reported, never gating):\n";
  for (const Bar& bar : bars) {
    out << absl::StrFormat("  %-56s %16s  %s\n", bar.name, bar.measured, bar.verdict);
  }
  if (!m.rss_reset) {
    out << "\nwarning: /proc/self/clear_refs was not writable: each peak RSS "
           "is the process peak so far, not the case's own\n";
  }
}

nlohmann::json ToJson(const Config& cfg, const Machine& m, const DataStats& data,
                      const std::vector<CaseResult>& results,
                      const std::vector<Bar>& bars, bool ok) {
  nlohmann::json doc;
  doc["tool"] = "rocksmigrate-bench";
  doc["machine"] = {{"cores", m.cores},       {"cpu", m.cpu},
                    {"memory", m.memory},     {"kernel", m.kernel},
                    {"rocksdb_version", m.rocksdb},
                    {"dir", cfg.dir},         {"filesystem", m.fs},
                    {"build", m.build},       {"revision", m.revision},
                    {"peak_rss_reset", m.rss_reset},
                    {"load_average_start", m.load_start},
                    {"load_average_end", m.load_end}};
  doc["config"] = {{"records", cfg.records},
                   {"threads", cfg.threads},
                   {"seed", cfg.seed},
                   {"repeat", cfg.repeat},
                   {"sample", cfg.sample},
                   {"baseline_records", cfg.baseline_records},
                   {"baseline_seconds", cfg.baseline_seconds},
                   {"wal", true},
                   {"sync", true},
                   {"mmap_threshold_fixed", cfg.mmap_threshold_fixed}};
  doc["data"] = {{"records", data.records},
                 {"task_records", data.tasks},
                 {"note_records", data.notes},
                 {"task_bytes", data.task_bytes},
                 {"avg_value_bytes",
                  data.records ? static_cast<double>(data.value_bytes) / data.records : 0.0},
                 {"disk_bytes", data.disk_bytes},
                 {"sst_files", data.sst_files},
                 {"generate_seconds", data.seconds}};
  nlohmann::json cases = nlohmann::json::array();
  for (const CaseResult& r : results) {
    nlohmann::json c = {{"id", r.id},
                        {"label", r.label},
                        {"records", r.records},
                        {"bytes", r.bytes},
                        {"seconds", r.seconds},
                        {"records_per_second", r.rate()},
                        {"mb_per_second", r.mb_per_s()},
                        {"cpu_seconds", r.cpu_seconds},
                        {"cpu_us_per_record", r.cpu_us_per_record()},
                        {"peak_rss_mib", r.peak_rss_kib < 0
                                             ? nlohmann::json(nullptr)
                                             : nlohmann::json(r.peak_rss_kib / 1024.0)},
                        {"memtables_peak_mib",
                         r.memtables_peak_bytes < 0
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(r.memtables_peak_bytes / 1048576.0)},
                        {"ok", r.ok},
                        {"check", r.check}};
    auto mib = [](int64_t bytes) {
      return bytes < 0 ? nlohmann::json(nullptr) : nlohmann::json(bytes / 1048576.0);
    };
    c["memory_at_peak_mib"] = {{"rss", mib(r.memory.rss)},
                               {"memtables", mib(r.memory.memtables)},
                               {"table_readers", mib(r.memory.table_readers)},
                               {"block_cache", mib(r.memory.block_cache)},
                               {"heap_in_use", mib(r.memory.heap_in_use)},
                               {"heap_free", mib(r.memory.heap_free)}};
    if (!r.note.empty()) c["note"] = r.note;
    if (!r.rates.empty()) c["records_per_second_all_runs"] = r.rates;
    cases.push_back(std::move(c));
  }
  doc["cases"] = std::move(cases);
  const CaseResult* a = Find(results, "naive");
  const CaseResult* b = Find(results, "copy_limit");
  const CaseResult* c = Find(results, "default_cpp");
  const CaseResult* patch = Find(results, "default_declarative");
  doc["ratios"] = {
      {"default_over_naive", c && a ? nlohmann::json(c->rate() / a->rate()) : nlohmann::json(nullptr)},
      {"default_over_copy_limit", c && b ? nlohmann::json(c->rate() / b->rate()) : nlohmann::json(nullptr)},
      {"json_patch_over_copy_limit",
       patch && b ? nlohmann::json(patch->rate() / b->rate()) : nlohmann::json(nullptr)}};
  nlohmann::json jb = nlohmann::json::array();
  for (const Bar& bar : bars) {
    jb.push_back({{"bar", bar.name}, {"measured", bar.measured}, {"verdict", bar.verdict}});
  }
  doc["bars"] = std::move(jb);
  doc["ok"] = ok;
  return doc;
}

// ---------------------------------------------------------------------------

// --memory-scaling: the default C++ path at 1,000,000 and at 10,000,000
// records, cfg.repeat times each on fresh copies; compares the largest peak
// RSS of each size (a peak is a maximum, so the maximum over runs). Prints a
// table (and JSON with --json); 1 if a run failed or produced wrong bytes.
int RunMemoryScaling(const Config& base, const std::string& tmp,
                     const Machine& machine) {
  struct Size {
    uint64_t records;
    std::vector<CaseResult> runs;
    const CaseResult* worst = nullptr;  // Largest peak RSS.
  };
  std::vector<Size> sizes = {{1000000, {}, nullptr}, {10000000, {}, nullptr}};
  bool ok = true;
  std::error_code ec;
  for (Size& size : sizes) {
    Config cfg = base;
    cfg.records = size.records;
    DataStats data;
    const std::string tmpl = absl::StrCat(tmp, "/template-", size.records);
    Say(absl::StrCat("generating ", Commas(size.records), " records"));
    absl::Status gen = Generate(cfg, tmpl, &data);
    if (!gen.ok()) {
      std::cerr << "error: generating the data: " << gen << "\n";
      return 1;
    }
    for (int rep = 0; rep < cfg.repeat; ++rep) {
      const std::string path = absl::StrCat(tmp, "/case-", size.records, "-", rep);
      absl::Status s = CloneDb(tmpl, path);
      if (!s.ok()) {
        std::cerr << "error: copying the template: " << s << "\n";
        return 1;
      }
      Say(absl::StrCat("running the default C++ path on ", Commas(size.records),
                       " records, run ", rep + 1, " of ", cfg.repeat));
      std::vector<CaseResult> r = RunMigrate(cfg, tmp, path, data, MigrationKind::kCpp,
                                             /*backup_cf=*/false, /*rollback=*/false);
      const CaseResult& c = r.front();
      Say(absl::StrFormat("  %s records/s, peak RSS %.1f MiB, %s",
                          Commas(static_cast<uint64_t>(c.rate())),
                          c.peak_rss_kib / 1024.0, c.check));
      Say("    " + MemoryLine(c.memory));
      ok = ok && c.ran && c.ok;
      size.runs.push_back(c);
      fs::remove_all(path, ec);
      ::sync();
    }
    if (!base.keep) fs::remove_all(tmpl, ec);
    for (const CaseResult& c : size.runs) {
      if (size.worst == nullptr || c.peak_rss_kib > size.worst->peak_rss_kib) {
        size.worst = &c;
      }
    }
  }
  const double small = sizes[0].worst->peak_rss_kib / 1024.0;
  const double large = sizes[1].worst->peak_rss_kib / 1024.0;
  const double ratio = small > 0 ? large / small : 0;

  std::ostream& out = base.json ? std::cerr : std::cout;
  out << "rocksmigrate-bench --memory-scaling\n"
      << "machine : " << machine.cores << " cores, " << machine.cpu << ", "
      << machine.memory << "; RocksDB " << machine.rocksdb << "; " << machine.build
      << "\n"
      << "setup   : default C++ path (Task v1->v2), backups on, WAL on, synced; "
      << AllocatorSetting(base) << "; "
      << base.repeat << " run(s) per size, each on a fresh copy\n"
      << "load    : " << machine.load_start << " at the start, " << LoadAverage()
      << " at the end\n";
  out << absl::StrFormat("%-12s %10s %14s %16s %12s %12s\n", "records", "runs",
                         "peak RSS MiB", "(all runs)", "memtab MiB", "records/s");
  for (const Size& size : sizes) {
    std::vector<std::string> peaks;
    double memtab = 0;
    std::vector<double> rates;
    for (const CaseResult& c : size.runs) {
      peaks.push_back(absl::StrFormat("%.0f", c.peak_rss_kib / 1024.0));
      memtab = std::max(memtab, c.memtables_peak_bytes / 1048576.0);
      rates.push_back(c.rate());
    }
    std::sort(rates.begin(), rates.end());
    out << absl::StrFormat("%-12s %10d %14.1f %16s %12.1f %12s\n", Commas(size.records),
                           static_cast<int>(size.runs.size()),
                           size.worst->peak_rss_kib / 1024.0,
                           absl::StrJoin(peaks, "/"), memtab,
                           Commas(static_cast<uint64_t>(rates[rates.size() / 2])));
  }
  out << absl::StrFormat(
      "bar: peak RSS at 10M within 1.2x of 1M: %.1f / %.1f MiB = %.2fx  %s\n"
      "bar: peak RSS at 10M <= 512 MiB: %.1f MiB  %s\n",
      large, small, ratio, ratio <= 1.2 ? "PASS" : "MISS", large,
      large <= 512 ? "PASS" : "MISS");
  if (base.json) {
    nlohmann::json doc;
    doc["mode"] = "memory_scaling";
    doc["repeat"] = base.repeat;
    nlohmann::json rows = nlohmann::json::array();
    for (const Size& size : sizes) {
      nlohmann::json runs = nlohmann::json::array();
      for (const CaseResult& c : size.runs) {
        runs.push_back({{"peak_rss_mib", c.peak_rss_kib / 1024.0},
                        {"memtables_peak_mib", c.memtables_peak_bytes / 1048576.0},
                        {"records_per_second", c.rate()},
                        {"ok", c.ok},
                        {"check", c.check}});
      }
      rows.push_back({{"records", size.records},
                      {"peak_rss_mib", size.worst->peak_rss_kib / 1024.0},
                      {"runs", runs}});
    }
    doc["sizes"] = rows;
    doc["ratio_10m_to_1m"] = ratio;
    doc["bar_ratio_pass"] = ratio <= 1.2;
    doc["bar_512_mib_pass"] = large <= 512;
    doc["ok"] = ok;
    std::cout << doc.dump(2) << std::endl;
  }
  if (!ok) std::cerr << "error: a run failed or produced wrong bytes\n";
  return ok ? 0 : 1;
}

int Usage(const std::string& problem) {
  std::cerr << "error: " << problem << "\n" << kUsage;
  return 2;
}

template <typename T>
bool ParseNumber(const std::string& text, T* out) {
  std::string digits;
  for (char ch : text) {
    if (ch != ',' && ch != '_') digits.push_back(ch);
  }
  return absl::SimpleAtoi(digits, out);
}

}  // namespace

int main(int argc, char** argv) {
  // The allocator setting the rocksmigrate tool makes (rocksmigrate/
  // allocator.h). Every case, the baselines included, runs under it.
  Config cfg;
  cfg.mmap_threshold_fixed = rocksmigrate::FixMmapThreshold().ok();
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (flag == "--large") {
      cfg.records = 10000000;
    } else if (flag == "--big-records") {
      rocksmigrate_sample::SetBigRecords(true);
    } else if (flag == "--online") {
      cfg.online = true;
    } else if (flag == "--online-json") {
      cfg.online = true;
      cfg.online_json = true;
    } else if (flag == "--memory-scaling") {
      cfg.memory_scaling = true;
    } else if (flag == "--json") {
      cfg.json = true;
    } else if (flag == "--keep") {
      cfg.keep = true;
    } else if (flag == "--records") {
      if (!value(&v) || !ParseNumber(v, &cfg.records) || cfg.records < 10) {
        return Usage("--records needs a number >= 10");
      }
    } else if (flag == "--threads") {
      if (!value(&v) || !ParseNumber(v, &cfg.threads) || cfg.threads < 0) {
        return Usage("--threads needs a number >= 0");
      }
    } else if (flag == "--dir") {
      if (!value(&cfg.dir)) return Usage("--dir needs a directory");
    } else if (flag == "--seed") {
      if (!value(&v) || !ParseNumber(v, &cfg.seed)) return Usage("--seed needs a number");
    } else if (flag == "--sample") {
      if (!value(&v) || !ParseNumber(v, &cfg.sample)) return Usage("--sample needs a number");
    } else if (flag == "--baseline-records") {
      if (!value(&v) || !ParseNumber(v, &cfg.baseline_records)) {
        return Usage("--baseline-records needs a number");
      }
    } else if (flag == "--baseline-seconds") {
      if (!value(&v) || !absl::SimpleAtod(v, &cfg.baseline_seconds) ||
          cfg.baseline_seconds < 0) {
        return Usage("--baseline-seconds needs a number >= 0");
      }
    } else if (flag == "--repeat") {
      if (!value(&v) || !ParseNumber(v, &cfg.repeat) || cfg.repeat < 1) {
        return Usage("--repeat needs a number >= 1");
      }
    } else if (flag == "--cases") {
      if (!value(&v)) return Usage("--cases needs a list");
      for (absl::string_view name : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        const std::string n(name);
        if (std::find(std::begin(kAllCases), std::end(kAllCases), n) ==
            std::end(kAllCases)) {
          return Usage("unknown case '" + n + "'");
        }
        cfg.cases.insert(n);
      }
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  auto want = [&cfg](const std::string& name) {
    return cfg.cases.empty() || cfg.cases.count(name) > 0;
  };
  if (want("rollback") && !cfg.cases.empty() && !cfg.cases.count("cpp")) {
    return Usage("--cases rollback needs cpp (it undoes that run)");
  }
  std::error_code ec;
  if (!fs::is_directory(cfg.dir, ec)) return Usage("--dir " + cfg.dir + " is not a directory");

  std::string tmp = (fs::path(cfg.dir) / "rocksmigrate-bench-XXXXXX").string();
  if (mkdtemp(tmp.data()) == nullptr) {
    std::cerr << "error: cannot create a temporary directory under " << cfg.dir << "\n";
    return 1;
  }
  Machine machine = DescribeMachine(cfg);
  Say(absl::StrCat("working in ", tmp, "; ", machine.cores, " cores, RocksDB ",
                   machine.rocksdb));

  if (cfg.memory_scaling) {
    const int rc = RunMemoryScaling(cfg, tmp, machine);
    if (!cfg.keep) fs::remove_all(tmp, ec);
    return rc;
  }

  DataStats data;
  const std::string tmpl = tmp + "/template";
  Say(absl::StrCat("generating ", Commas(cfg.records), " records"));
  absl::Status gen = Generate(cfg, tmpl, &data);
  if (!gen.ok()) {
    std::cerr << "error: generating the data: " << gen << "\n";
    if (!cfg.keep) fs::remove_all(tmp, ec);
    return 1;
  }
  Say(absl::StrFormat("generated in %.1f s (%s bytes on disk)", data.seconds,
                      Commas(data.disk_bytes)));

  if (cfg.online) {
    rocksmigrate_bench::OnlineBenchConfig ocfg;
    ocfg.records = cfg.records;
    ocfg.seed = cfg.seed;
    ocfg.threads = cfg.threads;
    ocfg.json_file = cfg.online_json;
    ocfg.clone = CloneDb;
    if (const char* w = std::getenv("RM_BENCH_ONLINE_WINDOW")) ocfg.during_seconds = std::atof(w);
    if (const char* w = std::getenv("RM_BENCH_ONLINE_IDLE")) ocfg.idle_seconds = std::atof(w);
    if (const char* p = std::getenv("RM_BENCH_MAX_PENDING")) {
      ocfg.max_pending_compaction_bytes = std::strtoull(p, nullptr, 10);
    }
    nlohmann::json online;
    const int rc = rocksmigrate_bench::RunOnlineBench(ocfg, tmp, tmpl, &online);
    if (cfg.json) {
      nlohmann::json doc;
      doc["engine_revision"] = machine.revision;
      doc["machine"] = {{"cores", machine.cores}, {"cpu", machine.cpu},
                        {"rocksdb", machine.rocksdb}, {"build", machine.build}};
      doc["online"] = online;
      std::cout << doc.dump(2) << std::endl;
    }
    if (!cfg.keep) fs::remove_all(tmp, ec);
    return rc;
  }

  std::vector<CaseResult> results;
  int copies = 0;
  // Runs `body` on a fresh copy, then deletes the copy.
  auto with_copy_once = [&](const std::string& what,
                            const std::function<void(const std::string&)>& body) {
    const std::string path = absl::StrCat(tmp, "/case", copies++);
    absl::Status s = CloneDb(tmpl, path);
    if (!s.ok()) {
      CaseResult r;
      r.id = what;
      r.label = what;
      Finish(&r, "copying the template: " + s.ToString(), 0);
      results.push_back(r);
      return;
    }
    Say("running " + what);
    const size_t before = results.size();
    body(path);
    for (size_t i = before; i < results.size(); ++i) {
      const CaseResult& r = results[i];
      Say(absl::StrFormat("  %s: %s records in %.2f s = %s records/s, peak RSS %.1f MiB, %s",
                          r.label, Commas(r.records), r.seconds,
                          Commas(static_cast<uint64_t>(r.rate())),
                          r.peak_rss_kib / 1024.0, r.check));
      Say("    " + MemoryLine(r.memory));
    }
    if (!cfg.keep) fs::remove_all(path, ec);
    // Let the file system finish this case's deletes and write-back before
    // the next case starts timing its fsyncs.
    ::sync();
  };
  // Runs a case --repeat times and keeps, per result id, the run with the
  // median time (a failed run wins: it must not be hidden by the others).
  auto with_copy = [&](const std::string& what,
                       const std::function<void(const std::string&)>& body) {
    const size_t first = results.size();
    for (int rep = 0; rep < cfg.repeat; ++rep) {
      if (cfg.repeat > 1) Say(absl::StrCat("repetition ", rep + 1, " of ", cfg.repeat));
      with_copy_once(what, body);
    }
    if (cfg.repeat == 1) return;
    std::vector<CaseResult> runs(results.begin() + first, results.end());
    results.resize(first);
    std::vector<std::string> ids;
    for (const CaseResult& r : runs) {
      if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) ids.push_back(r.id);
    }
    for (const std::string& id : ids) {
      std::vector<CaseResult> same;
      std::vector<double> rates;
      for (const CaseResult& r : runs) {
        if (r.id != id) continue;
        same.push_back(r);
        rates.push_back(r.rate());
      }
      auto failed = std::find_if(same.begin(), same.end(),
                                 [](const CaseResult& r) { return !r.ok; });
      CaseResult pick;
      if (failed != same.end()) {
        pick = *failed;
      } else {
        std::sort(same.begin(), same.end(), [](const CaseResult& a, const CaseResult& b) {
          return a.seconds < b.seconds;
        });
        pick = same[same.size() / 2];
      }
      pick.rates = rates;
      auto [lo, hi] = std::minmax_element(rates.begin(), rates.end());
      std::string spread = absl::StrFormat(
          "median of %d runs; records/s ranged %s .. %s", static_cast<int>(rates.size()),
          Commas(static_cast<uint64_t>(*lo)), Commas(static_cast<uint64_t>(*hi)));
      pick.note = pick.note.empty() ? spread : pick.note + "; " + spread;
      results.push_back(std::move(pick));
    }
  };

  if (want("naive")) {
    with_copy("naive", [&](const std::string& p) { results.push_back(RunNaive(cfg, p, data)); });
  }
  if (want("copy")) {
    with_copy("copy limit", [&](const std::string& p) {
      for (CaseResult& r : RunMigrate(cfg, tmp, p, data, MigrationKind::kIdentity,
                                      /*backup_cf=*/false, false)) {
        results.push_back(std::move(r));
      }
    });
  }
  if (want("cpp")) {
    with_copy("default path, C++ migration (then rollback)", [&](const std::string& p) {
      for (CaseResult& r : RunMigrate(cfg, tmp, p, data, MigrationKind::kCpp,
                                      /*backup_cf=*/false, want("rollback"))) {
        results.push_back(std::move(r));
      }
    });
  }
  if (want("declarative")) {
    with_copy("default path, declarative migration", [&](const std::string& p) {
      for (CaseResult& r : RunMigrate(cfg, tmp, p, data, MigrationKind::kDeclarative,
                                      /*backup_cf=*/false, false)) {
        results.push_back(std::move(r));
      }
    });
  }
  if (want("backup_cf")) {
    with_copy("default path, backups in a column family", [&](const std::string& p) {
      for (CaseResult& r : RunMigrate(cfg, tmp, p, data, MigrationKind::kCpp,
                                      /*backup_cf=*/true, false)) {
        results.push_back(std::move(r));
      }
    });
  }
  if (want("dryrun")) {
    with_copy("dry run", [&](const std::string& p) { results.push_back(RunDryRun(cfg, p, data)); });
  }
  if (cfg.keep) {
    Say("kept " + tmp);
  } else {
    fs::remove_all(tmp, ec);
  }

  machine.load_end = LoadAverage();
  bool ok = true;
  for (const CaseResult& r : results) ok = ok && r.ran && r.ok;
  const std::vector<Bar> bars = Bars(cfg, results);
  if (cfg.json) {
    PrintTable(std::cerr, cfg, machine, data, results, bars);
    std::cout << ToJson(cfg, machine, data, results, bars, ok).dump(2) << std::endl;
  } else {
    PrintTable(std::cout, cfg, machine, data, results, bars);
  }
  if (!ok) std::cerr << "error: at least one case failed or produced wrong bytes\n";
  return ok ? 0 : 1;
}
