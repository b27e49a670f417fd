#include "benchmarks/bench_scaling.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "benchmarks/bench_cases.h"
#include "benchmarks/bench_dataset.h"
#include "nlohmann/json.hpp"

namespace rocksmigrate_bench {

namespace fs = std::filesystem;

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

}  // namespace rocksmigrate_bench
