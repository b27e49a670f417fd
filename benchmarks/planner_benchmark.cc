// Planning: MigrationRegistry::PlanPath over a chain of N one-version steps,
// and registering such a chain. Planning runs once per Migrate/DryRun/Inspect
// call, so it only has to stay far below a millisecond.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/registry.h"

namespace {

// A migration that only has a place in the chain.
class ChainLink : public rocksmigrate::Migration {
 public:
  ChainLink(int from, std::string prefix)
      : from_(from), prefix_(std::move(prefix)) {}
  int from() const override { return from_; }
  int to() const override { return from_ + 1; }
  std::string name() const override { return absl::StrCat("step_", from_); }
  std::string prefix() const override { return prefix_; }
  absl::StatusOr<rocksmigrate::ItemResult> Migrate(
      std::string_view, std::string_view) const override {
    return rocksmigrate::ItemResult::Keep();
  }

 private:
  int from_;
  std::string prefix_;
};

// Steps 1 -> 2 ... N -> N+1, `per_step` prefixes each.
void FillChain(rocksmigrate::MigrationRegistry* registry, int steps,
               int per_step) {
  for (int v = 1; v <= steps; ++v) {
    for (int p = 0; p < per_step; ++p) {
      CHECK(registry
                ->Register(std::make_unique<ChainLink>(
                    v, absl::StrCat("prefix", p, ":")))
                .ok());
    }
  }
}

void BM_PlanPath(benchmark::State& state) {
  const int steps = static_cast<int>(state.range(0));
  const int per_step = static_cast<int>(state.range(1));
  rocksmigrate::MigrationRegistry registry;
  FillChain(&registry, steps, per_step);
  for (auto _ : state) {
    auto plan = registry.PlanPath(1, steps + 1);
    CHECK(plan.ok() && static_cast<int>(plan->size()) == steps);
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * steps);  // Steps planned.
}
BENCHMARK(BM_PlanPath)
    ->ArgNames({"steps", "prefixes"})
    ->Args({10, 1})
    ->Args({100, 1})
    ->Args({100, 4})
    ->Args({1000, 1});

// A chain with a gap at the end: the planner must report it, not loop.
void BM_PlanPathGap(benchmark::State& state) {
  const int steps = static_cast<int>(state.range(0));
  rocksmigrate::MigrationRegistry registry;
  FillChain(&registry, steps, 1);
  for (auto _ : state) {
    auto plan = registry.PlanPath(1, steps + 2);
    CHECK(!plan.ok());
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanPathGap)->ArgNames({"steps"})->Arg(100);

void BM_RegisterChain(benchmark::State& state) {
  const int steps = static_cast<int>(state.range(0));
  for (auto _ : state) {
    rocksmigrate::MigrationRegistry registry;
    FillChain(&registry, steps, 1);
    benchmark::DoNotOptimize(registry.newest_version());
  }
  state.SetItemsProcessed(state.iterations() * steps);
}
BENCHMARK(BM_RegisterChain)->ArgNames({"steps"})->Arg(100);

}  // namespace

BENCHMARK_MAIN();
