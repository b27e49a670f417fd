#include "benchmarks/bench_machine.h"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksdb/version.h"

namespace rocksmigrate_bench {
namespace {

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

int64_t CurrentRssBytes() {
  std::string rss = ReadField("/proc/self/status", "VmRSS");
  int64_t kib = -1;
  if (!absl::SimpleAtoi(rss.substr(0, rss.find(' ')), &kib)) return -1;
  return kib * 1024;
}

}  // namespace

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

int64_t MemorySampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  return max_memtables_;
}

int64_t MemorySampler::Property(const char* name) {
  uint64_t bytes = 0;
  if (!db_->GetAggregatedIntProperty(name, &bytes)) return -1;
  return static_cast<int64_t>(bytes);
}

void MemorySampler::Loop() {
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

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  return absl::StrFormat("%.2f %.2f %.2f", one, five, fifteen);
}

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

}  // namespace rocksmigrate_bench
