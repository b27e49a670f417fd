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
//
// This file holds main(): the usage text, the flags, and the order the
// cases run in (each --repeat times on its own copy). The parts:
//   bench_config.h     Config, DataStats, CaseResult and the text helpers;
//   bench_machine.h    the clock, CPU time, peak RSS, MemorySampler, Machine;
//   bench_dataset.h    DbOptions, Generate, CloneDb, CheckSample, Finish;
//   bench_cases.h      RunNaive, RunMigrate, RunDryRun;
//   bench_report.h     the bars, the table and the --json document;
//   bench_scaling.h    --memory-scaling;
//   online_bench.h     --online.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "benchmarks/bench_cases.h"
#include "benchmarks/bench_config.h"
#include "benchmarks/bench_dataset.h"
#include "benchmarks/bench_machine.h"
#include "benchmarks/bench_report.h"
#include "benchmarks/bench_scaling.h"
#include "benchmarks/online_bench.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/utilities/allocator.h"
#include "tools/sample/sample_data.h"

namespace {

namespace fs = std::filesystem;
using rocksmigrate_bench::Bar;
using rocksmigrate_bench::Bars;
using rocksmigrate_bench::CaseResult;
using rocksmigrate_bench::CloneDb;
using rocksmigrate_bench::Commas;
using rocksmigrate_bench::Config;
using rocksmigrate_bench::DataStats;
using rocksmigrate_bench::DescribeMachine;
using rocksmigrate_bench::Finish;
using rocksmigrate_bench::Generate;
using rocksmigrate_bench::LoadAverage;
using rocksmigrate_bench::Machine;
using rocksmigrate_bench::MemoryLine;
using rocksmigrate_bench::MigrationKind;
using rocksmigrate_bench::PrintTable;
using rocksmigrate_bench::RunDryRun;
using rocksmigrate_bench::RunMemoryScaling;
using rocksmigrate_bench::RunMigrate;
using rocksmigrate_bench::RunNaive;
using rocksmigrate_bench::Say;
using rocksmigrate_bench::ToJson;

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
