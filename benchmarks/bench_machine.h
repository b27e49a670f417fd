// rocksmigrate-bench's probes of the machine and of its own process: the
// clock and the CPU time a case is timed with, the peak RSS (reset before
// each case), a MemorySampler that polls RocksDB's memory while a case
// runs, the load average, and the Machine every report's header describes.
//
// Contract: Linux only (/proc, sched_getaffinity, statfs, mallinfo2). A probe
// that cannot read its source returns -1 (sizes), 0 (CPU time, load
// averages), false (ResetPeakRss) or an empty / "unknown" string; none of
// them fails the run.
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_MACHINE_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_MACHINE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "benchmarks/bench_config.h"
#include "rocksdb/db.h"

namespace rocksmigrate_bench {

// User + system CPU seconds of the process so far, every thread included
// (RocksDB's flushes and compactions too).
double CpuSeconds();

// A steady clock, in seconds.
double Now();

// Resets the peak RSS (VmHWM) to the current RSS. Freed heap is returned to
// the kernel first so that one case's garbage does not count in the next.
// False when /proc/self/clear_refs is not writable.
bool ResetPeakRss();

// The peak RSS (VmHWM) since the last ResetPeakRss(), in KiB; -1 unknown.
int64_t PeakRssKib();

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
  int64_t Stop();
  // Valid after Stop().
  const MemoryAtPeak& at_peak() const { return at_peak_; }

 private:
  int64_t Property(const char* name);
  void Loop();

  rocksdb::DB* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t max_memtables_ = 0;
  MemoryAtPeak at_peak_;
  std::thread thread_;
};

// The 1/5/15-minute load averages, "0.26 0.61 0.83".
std::string LoadAverage();

// What the report's header says about where the figures come from.
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

// Describes this machine and the file system of cfg.dir. Also resets the
// peak RSS (Machine::rss_reset says whether that works) and takes the load
// average at the start; the caller fills load_end.
Machine DescribeMachine(const Config& cfg);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_MACHINE_H_
