// `rocksmigrate-bench --memory-scaling`: the default C++ path (Task v1 ->
// v2, backups on) at 1,000,000 and at 10,000,000 records, Config::repeat
// times each, every run on a fresh copy of that size's template; compares
// the largest peak RSS of each size (a peak is a maximum, so the maximum
// over runs) against the README's bars.
//
// Contract: generates its own templates under `tmp` (and removes them
// unless Config::keep); prints a table on stdout (on stderr with
// Config::json, then one JSON document on stdout). Returns 0, or 1 when
// generating or copying failed or a run failed or produced wrong bytes.
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_SCALING_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_SCALING_H_

#include <string>

#include "benchmarks/bench_config.h"
#include "benchmarks/bench_machine.h"

namespace rocksmigrate_bench {

int RunMemoryScaling(const Config& base, const std::string& tmp,
                     const Machine& machine);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_SCALING_H_
