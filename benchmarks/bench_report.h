// rocksmigrate-bench's report of the cases: the bars (the targets the
// README states, each PASS, MISS or why it was not evaluated), the table,
// and the --json document.
//
// Contract: reads results only; prints nothing but the table on the stream
// it is given. A ratio or a bar is computed only from cases that ran and
// passed their check; the bars are reported, never gating (they do not
// change the exit status).
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_REPORT_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_REPORT_H_

#include <ostream>
#include <string>
#include <vector>

#include "benchmarks/bench_config.h"
#include "benchmarks/bench_machine.h"
#include "nlohmann/json.hpp"

namespace rocksmigrate_bench {

struct Bar {
  std::string name;
  std::string measured;
  std::string verdict;  // "PASS", "MISS", or why it was not evaluated.
};

// The bars that `results` can evaluate.
std::vector<Bar> Bars(const Config& cfg, const std::vector<CaseResult>& results);

// The header (machine, storage, engine, data, setup, load), one row a case
// with its notes, the ratios and the bars.
void PrintTable(std::ostream& out, const Config& cfg, const Machine& m,
                const DataStats& data, const std::vector<CaseResult>& results,
                const std::vector<Bar>& bars);

// The same as one JSON document; `ok`: every case ran and passed its check.
nlohmann::json ToJson(const Config& cfg, const Machine& m, const DataStats& data,
                      const std::vector<CaseResult>& results,
                      const std::vector<Bar>& bars, bool ok);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_REPORT_H_
