#include "benchmarks/bench_report.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rocksmigrate_bench {
namespace {

// The case `id` if it ran and passed its check, else nullptr.
const CaseResult* Find(const std::vector<CaseResult>& results, const std::string& id) {
  for (const CaseResult& r : results) {
    if (r.id == id && r.ran && r.ok) return &r;
  }
  return nullptr;
}

}  // namespace

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

}  // namespace rocksmigrate_bench
