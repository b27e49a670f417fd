#include "benchmarks/bench_config.h"

#include <cstdint>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/utilities/allocator.h"

namespace rocksmigrate_bench {

std::string AllocatorSetting(const Config& cfg) {
  return cfg.mmap_threshold_fixed
             ? absl::StrCat("glibc mmap threshold fixed at ",
                            rocksmigrate::kMmapThresholdBytes >> 10,
                            " KiB, as in the rocksmigrate tool")
             : "allocator NOT tuned (not glibc): peaks include heap fragments";
}

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

}  // namespace rocksmigrate_bench
