// One record's transform, the CPU cost of a migration: the Task v1 -> v2
// step as a C++ JsonMigration (examples/task_v1_to_v2.h), as a declarative
// JSON Patch file, the same work done by hand with nlohmann (what the naive
// baseline of rocksmigrate-bench does), and the skip path of a record that
// is already at v2. Each reports items/s and bytes/s of input.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tools/sample/sample_data.h"
#include "examples/task_v1_to_v2.h"
#include "glog/logging.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/patch_migration.h"

namespace {

constexpr uint64_t kSeed = 42;
constexpr int kRecords = 256;  // Cycled, so the branch predictor sees variety.

struct Records {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  size_t bytes = 0;
};

// `kRecords` task records at version 1, or at version 2 if `migrated`.
const Records& Tasks(bool migrated) {
  static const Records* const sets[2] = {
      [] {
        auto* r = new Records;
        for (uint64_t i = 0; r->keys.size() < kRecords; ++i) {
          if (!rocksmigrate_sample::IsTask(i)) continue;
          r->keys.push_back(rocksmigrate_sample::RecordKey(i));
          r->values.push_back(rocksmigrate_sample::RecordValue(kSeed, i));
          r->bytes += r->values.back().size();
        }
        return r;
      }(),
      [] {
        auto* r = new Records;
        for (uint64_t i = 0; r->keys.size() < kRecords; ++i) {
          if (!rocksmigrate_sample::IsTask(i)) continue;
          r->keys.push_back(rocksmigrate_sample::RecordKey(i));
          r->values.push_back(rocksmigrate_sample::ExpectedTaskV2(
              rocksmigrate_sample::RecordValue(kSeed, i)));
          r->bytes += r->values.back().size();
        }
        return r;
      }()};
  return *sets[migrated ? 1 : 0];
}

std::unique_ptr<rocksmigrate::Migration> LoadDeclarative() {
  std::string dir = (std::filesystem::temp_directory_path() /
                     "rocksmigrate-transform-bench-XXXXXX")
                        .string();
  CHECK(mkdtemp(dir.data()) != nullptr);
  const std::string path = dir + "/" + rocksmigrate_sample::kDeclarativeFileName;
  {
    std::ofstream out(path);
    out << rocksmigrate_sample::kDeclarativeFile;
  }
  auto loaded = rocksmigrate::LoadMigrationFile(path);
  std::filesystem::remove_all(dir);
  CHECK(loaded.ok()) << loaded.status();
  return std::move(loaded).value();
}

void RunMigration(benchmark::State& state, const rocksmigrate::Migration& m,
                  bool migrated, rocksmigrate::ItemResult::Kind expected) {
  const Records& records = Tasks(migrated);
  // One checked pass first: a fast wrong answer is not a result.
  for (size_t i = 0; i < records.keys.size(); ++i) {
    auto r = m.Migrate(records.keys[i], records.values[i]);
    CHECK(r.ok() && r->kind() == expected) << records.keys[i];
    if (expected == rocksmigrate::ItemResult::Kind::kWrite) {
      CHECK_EQ(r->value(), rocksmigrate_sample::ExpectedTaskV2(records.values[i]));
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    auto r = m.Migrate(records.keys[i], records.values[i]);
    benchmark::DoNotOptimize(r);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(records.bytes / records.keys.size()));
}

void BM_Transform_CppJsonMigration(benchmark::State& state) {
  example::TaskV1ToV2 m;
  RunMigration(state, m, false, rocksmigrate::ItemResult::Kind::kWrite);
}
BENCHMARK(BM_Transform_CppJsonMigration);

void BM_Transform_DeclarativePatch(benchmark::State& state) {
  auto m = LoadDeclarative();
  RunMigration(state, *m, false, rocksmigrate::ItemResult::Kind::kWrite);
}
BENCHMARK(BM_Transform_DeclarativePatch);

void BM_Transform_CppJsonMigration_AlreadyV2(benchmark::State& state) {
  example::TaskV1ToV2 m;
  RunMigration(state, m, true, rocksmigrate::ItemResult::Kind::kKeep);
}
BENCHMARK(BM_Transform_CppJsonMigration_AlreadyV2);

// The same patch applied the way declarative files were before the
// byte-preserving engine: an nlohmann DOM, nlohmann's own patch(), then the
// version, then the whole record dumped (the reference the engine's bar is
// measured against).
std::string NlohmannPatch(const nlohmann::ordered_json& patch,
                          std::string_view record) {
  auto j = nlohmann::ordered_json::parse(record.begin(), record.end());
  j = j.patch(patch);
  j["schema_version"] = 2;
  return j.dump();
}

void RunNlohmannPatch(benchmark::State& state, const char* patch_text) {
  const Records& records = Tasks(false);
  const auto patch = nlohmann::ordered_json::parse(patch_text);
  size_t i = 0;
  for (auto _ : state) {
    std::string out = NlohmannPatch(patch, records.values[i]);
    benchmark::DoNotOptimize(out);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(records.bytes / records.keys.size()));
}

constexpr char kTaskPatch[] =
    R"([{"op":"add","path":"/depends_on","value":[]},)"
    R"({"op":"add","path":"/related_tasks","value":[]}])";
// Every kind of operation on a task record.
constexpr char kMixedPatch[] =
    R"([{"op":"test","path":"/schema_version","value":1},)"
    R"({"op":"move","from":"/assignee","path":"/owner"},)"
    R"({"op":"copy","from":"/created_at","path":"/updated_at"},)"
    R"({"op":"replace","path":"/priority","value":3},)"
    R"({"op":"remove","path":"/estimate_minutes"},)"
    R"({"op":"add","path":"/depends_on","value":[]}])";

void BM_Transform_NlohmannPatch_Task(benchmark::State& state) {
  RunNlohmannPatch(state, kTaskPatch);
}
BENCHMARK(BM_Transform_NlohmannPatch_Task);

void BM_Transform_BytePatch_Task(benchmark::State& state) {
  auto m = rocksmigrate::PatchMigration::Create(1, "t", "task:", kTaskPatch);
  CHECK(m.ok()) << m.status();
  RunMigration(state, **m, false, rocksmigrate::ItemResult::Kind::kWrite);
}
BENCHMARK(BM_Transform_BytePatch_Task);

void BM_Transform_NlohmannPatch_Mixed(benchmark::State& state) {
  RunNlohmannPatch(state, kMixedPatch);
}
BENCHMARK(BM_Transform_NlohmannPatch_Mixed);

void BM_Transform_BytePatch_Mixed(benchmark::State& state) {
  auto m = rocksmigrate::PatchMigration::Create(1, "t", "task:", kMixedPatch);
  CHECK(m.ok()) << m.status();
  const Records& records = Tasks(false);
  // Checked against the nlohmann reference, value for value.
  const auto patch = nlohmann::ordered_json::parse(kMixedPatch);
  for (size_t i = 0; i < records.keys.size(); ++i) {
    auto r = (*m)->Migrate(records.keys[i], records.values[i]);
    CHECK(r.ok() && r->kind() == rocksmigrate::ItemResult::Kind::kWrite);
    CHECK(nlohmann::json::parse(r->value()) ==
          nlohmann::json::parse(NlohmannPatch(patch, records.values[i])))
        << records.keys[i];
  }
  size_t i = 0;
  for (auto _ : state) {
    auto r = (*m)->Migrate(records.keys[i], records.values[i]);
    benchmark::DoNotOptimize(r);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(records.bytes / records.keys.size()));
}
BENCHMARK(BM_Transform_BytePatch_Mixed);

// The naive baseline's transform: parse, add, set, dump; no Migration
// wrapper, no version rule.
void BM_Transform_NaiveNlohmann(benchmark::State& state) {
  const Records& records = Tasks(false);
  size_t i = 0;
  for (auto _ : state) {
    std::string out = rocksmigrate_sample::NaiveTransform(records.values[i]);
    benchmark::DoNotOptimize(out);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(records.bytes / records.keys.size()));
}
BENCHMARK(BM_Transform_NaiveNlohmann);

// The pieces of the JSON work, to see where a transform's time goes.
void BM_Json_ParseOnly(benchmark::State& state) {
  const Records& records = Tasks(false);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& v = records.values[i];
    auto j = nlohmann::ordered_json::parse(v.begin(), v.end(), nullptr, false);
    benchmark::DoNotOptimize(j);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Json_ParseOnly);

void BM_Json_DumpOnly(benchmark::State& state) {
  const Records& records = Tasks(false);
  std::vector<nlohmann::ordered_json> parsed;
  for (const std::string& v : records.values) {
    parsed.push_back(nlohmann::ordered_json::parse(v));
  }
  size_t i = 0;
  for (auto _ : state) {
    std::string out = parsed[i].dump();
    benchmark::DoNotOptimize(out);
    if (++i == parsed.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Json_DumpOnly);

// The expected-bytes computation rocksmigrate-bench uses to check results:
// shows that checking is not what the tool spends its time on.
void BM_ExpectedBytesByTextEdit(benchmark::State& state) {
  const Records& records = Tasks(false);
  size_t i = 0;
  for (auto _ : state) {
    std::string out = rocksmigrate_sample::ExpectedTaskV2(records.values[i]);
    benchmark::DoNotOptimize(out);
    if (++i == records.keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExpectedBytesByTextEdit);

}  // namespace

BENCHMARK_MAIN();
