// Migrator::Validate: every record under a migrated prefix parses and
// carries the version of the newest applied step that migrated its prefix
// (SPEC §8.2); applied migration files are unchanged.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/status_macros.h"
#include "src/keys.h"
#include "src/migrator_impl.h"
#include "src/progress_meter.h"
#include "src/step_pipeline.h"

namespace rocksmigrate {
namespace {

constexpr size_t kMaxProblems = 100;

// A prefix some applied step migrated, with the newest such step's version.
struct Expectation {
  std::string prefix;
  int version = 0;
  bool json = false;
};

// The expectation that applies to `key`: the longest matching prefix wins
// (a step migrating "task:a" is more specific than one migrating "task:").
const Expectation* ExpectationFor(const std::vector<Expectation>& all,
                                  std::string_view key) {
  const Expectation* best = nullptr;
  for (const Expectation& e : all) {
    if (key.substr(0, e.prefix.size()) == e.prefix &&
        (best == nullptr || e.prefix.size() > best->prefix.size())) {
      best = &e;
    }
  }
  return best;
}

}  // namespace

absl::StatusOr<ValidationReport> Migrator::Impl::Validate() const {
  auto st = ReadState();
  if (!st.ok()) return st.status();
  RM_RETURN_IF_ERROR(CheckNotNewer(*st));
  ValidationReport report;

  // Applied files unchanged.
  auto history = meta_.ReadHistory();
  if (!history.ok()) return history.status();
  std::map<std::string, std::string> files;  // Name -> current SHA-256.
  for (const Step* step : registry_->steps()) {
    for (const Migration* m : step->migrations) {
      if (!m->source_file().empty()) files[m->source_file()] = m->checksum();
    }
  }
  std::set<std::string> reported;
  for (const HistoryEntry& e : *history) {
    if (e.status != "success") continue;
    for (const auto& [file, sum] : e.checksums) {
      if (reported.count(file) > 0) continue;
      auto it = files.find(file);
      std::string message;
      if (it == files.end()) {
        if (files.empty()) continue;  // No declarative migrations loaded.
        message = absl::StrCat("applied in run ", e.run_id,
                               " but no longer in the migrations directory");
      } else if (it->second != sum) {
        message = absl::StrCat("changed since it was applied in run ",
                               e.run_id, " (sha256 then ", sum, ", now ",
                               it->second, "); restore the applied version "
                               "and put changes in a new migration file");
      } else {
        continue;
      }
      reported.insert(file);
      ++report.problem_count;
      if (report.problems.size() < kMaxProblems) {
        report.problems.push_back(ValidationProblem{"", file, message});
      }
    }
  }

  // Records.
  std::vector<Expectation> expect;
  for (const Step* step : registry_->steps()) {
    if (step->to > st->current) continue;
    for (const Migration* m : step->migrations) {
      auto it = std::find_if(expect.begin(), expect.end(),
                             [&](const Expectation& e) {
                               return e.prefix == m->prefix();
                             });
      if (it == expect.end()) {
        expect.push_back({m->prefix(), step->to, m->records_are_json()});
      } else if (step->to > it->version) {
        it->version = step->to;
        it->json = m->records_are_json();
      }
    }
  }
  std::set<std::string> json_prefixes;
  for (const Expectation& e : expect) {
    if (e.json) json_prefixes.insert(e.prefix);
  }
  std::vector<ScanRange> ranges;
  std::vector<KeyRange> key_ranges;
  std::string last;
  bool have_last = false;
  for (const std::string& p : json_prefixes) {  // Sorted; drop covered ones.
    if (have_last && p.compare(0, last.size(), last) == 0) continue;
    last = p;
    have_last = true;
    for (KeyRange& r : UserRanges(p)) {
      key_ranges.push_back(r);
      ranges.push_back(ScanRange{std::move(r), 0, std::nullopt});
    }
  }
  if (ranges.empty()) return report;

  ProgressMeter meter(options_, Progress::Phase::kDryRun, st->current,
                      st->current, EstimateRecords(db_, nullptr, key_ranges), 0);
  PipelineOptions popt;
  popt.workers = options_.threads;
  popt.batch_items = options_.batch_items;
  popt.batch_bytes = options_.batch_bytes;
  auto transform = [&expect](RawBatch& raw, PreparedBatch* out) {
    out->dry_counts.resize(1);
    DryRunCounts& counts = out->dry_counts[0];
    for (const RawItem& item : raw.items) {
      const Expectation* e = ExpectationFor(expect, item.key);
      if (e == nullptr || !e->json) continue;
      std::string problem;
      Json record = Json::parse(item.value.begin(), item.value.end(), nullptr,
                                /*allow_exceptions=*/false);
      if (record.is_discarded() ||
          item.value.find('\0') != std::string::npos) {  // See JsonMigration.
        problem = "value is not valid JSON";
      } else if (!record.is_object()) {
        problem = absl::StrCat("value is a JSON ", record.type_name(),
                               ", not an object");
      } else {
        absl::StatusOr<int64_t> v = RecordSchemaVersion(record);
        if (!v.ok()) {
          problem = std::string(v.status().message());
        } else if (*v < 0) {
          problem = absl::StrCat("has no schema_version; expected ", e->version);
        } else if (*v != e->version) {
          problem = absl::StrCat("schema_version is ", *v, "; expected ",
                                 e->version, " (prefix '",
                                 PrintableKey(e->prefix), "')");
        }
      }
      if (problem.empty()) continue;
      ++counts.failed;
      if (counts.failures.size() < kMaxProblems) {
        counts.failures.push_back(ItemFailure{item.key, std::move(problem)});
      }
    }
  };
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    report.records_checked += batch.visited;
    DryRunCounts& counts = batch.dry_counts[0];
    report.problem_count += counts.failed;
    for (ItemFailure& f : counts.failures) {
      if (report.problems.size() >= kMaxProblems) break;
      report.problems.push_back(
          ValidationProblem{std::move(f.key), "", std::move(f.message)});
    }
    meter.Report(report.records_checked, "");
    return absl::OkStatus();
  };
  RM_RETURN_IF_ERROR(RunPipeline(db_, ranges, popt, transform, consume));
  return report;
}

}  // namespace rocksmigrate
