// rocksmigrate-bench's configuration and results: the Config the flags fill
// (rocksmigrate_bench.cc), what the generator wrote (DataStats), and one
// case's figures (CaseResult, with the memory breakdown at its RSS peak),
// plus the small text helpers every part prints with.
//
// Contract: plain values, no behaviour beyond the derived rates. A memory
// figure of CaseResult (peak_rss_kib, memtables_peak_bytes, memory) that was
// never measured is -1 (the table and the JSON print "n/a" / null for it). Progress and diagnostics go to stderr through Say(),
// so that --json keeps stdout for the document.
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_CONFIG_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_CONFIG_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace rocksmigrate_bench {

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
std::string AllocatorSetting(const Config& cfg);

// One line: the RSS breakdown at a case's largest sampled RSS.
std::string MemoryLine(const MemoryAtPeak& m);

// `n` with thousands separators: 2000000 -> "2,000,000".
std::string Commas(uint64_t n);

// Prints "[bench] <line>" on stderr.
void Say(const std::string& line);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_CONFIG_H_
