// Migrator::Validate: every record under a migrated prefix parses and
// carries the version of the newest applied step that migrated its prefix
// (SPEC §8.2); applied migration files are unchanged.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_number.h"
#include "src/json_tree.h"
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
  RM_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot());
  RM_RETURN_IF_ERROR(CheckNotNewer(snap));
  ValidationReport report;

  // Applied files unchanged.
  std::map<std::string, std::string> files;  // Name -> current SHA-256.
  for (const Step* step : registry_->steps()) {
    for (const Migration* m : step->migrations) {
      if (!m->source_file().empty()) files[m->source_file()] = m->checksum();
    }
  }
  std::set<std::string> reported;
  RM_RETURN_IF_ERROR(history_.ForEach([&](const HistoryEntry& e) {
    if (e.status != StepStatus::kSuccess) return true;
    for (const auto& [file, sum] : e.checksums) {
      if (reported.count(file) > 0) continue;
      auto it = files.find(file);
      std::string message;
      if (it == files.end()) {
        if (files.empty()) continue;  // No declarative migrations loaded.
        // Squashed below the baseline: deleted on purpose.
        if (e.to <= registry_->oldest_supported_version()) continue;
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
    return true;
  }));

  // Records.
  std::vector<Expectation> expect;
  for (const Step* step : registry_->steps()) {
    if (step->to > snap.current) continue;
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

  ProgressMeter meter(options_, Progress::Phase::kDryRun, snap.current,
                      snap.current, EstimateRecords(db_, nullptr, key_ranges), 0);
  PipelineOptions popt;
  popt.workers = options_.threads;
  popt.batch_items = options_.batch_items;
  popt.batch_bytes = options_.batch_bytes;
  // Records are checked by the JSON Patch engine's parser with nodes for
  // their top level only, so a record of any size costs its bytes, not a
  // tree of them. dry_counts[0]
  // holds the problems, dry_counts[1] the records ahead of their version.
  auto transform = [&expect](RawBatch& raw, PreparedBatch* out) {
    out->dry_counts.resize(2);
    DryRunCounts& counts = out->dry_counts[0];
    DryRunCounts& ahead = out->dry_counts[1];
    for (RawItem& item : raw.items) {
      const Expectation* e = ExpectationFor(expect, item.key);
      if (e == nullptr || !e->json) continue;
      std::string problem;
      bool is_ahead = false;
      // The parser the JSON Patch engine uses, nodes for the top level
      // only: memory grows with a record's top-level members, not with it.
      thread_local JsonTree tree;
      const absl::Status parsed = tree.Parse(item.value, /*node_depth=*/1);
      const int version = parsed.ok() && tree.type(tree.root()) ==
                                             JsonTree::Type::kObject
                              ? tree.FindMember(tree.root(), "schema_version")
                              : JsonTree::kNone;
      std::optional<int64_t> v;
      if (version != JsonTree::kNone &&
          tree.type(version) == JsonTree::Type::kNumber) {
        v = JsonNonNegativeInteger(tree.text(version));
      }
      const std::string text =
          version == JsonTree::kNone
              ? std::string()
              : std::string(tree.text(version).substr(0, 80));
      if (!parsed.ok()) {
        problem = std::string(parsed.message());
      } else if (tree.type(tree.root()) != JsonTree::Type::kObject) {
        problem = absl::StrCat("value is a JSON ",
                               JsonTree::TypeName(tree.type(tree.root())),
                               ", not an object");
      } else if (version == JsonTree::kNone) {
        problem = absl::StrCat("has no schema_version; expected ", e->version);
      } else if (!v) {
        problem = absl::StrCat("schema_version is not a non-negative integer: ",
                               text);
      } else if (*v > e->version) {
        is_ahead = true;
        problem = absl::StrCat("schema_version is ", text, ", above ",
                               e->version, " (prefix '", PrintableKey(e->prefix),
                               "'): written by a newer binary? migrate skips "
                               "it");
      } else if (*v != e->version) {
        problem = absl::StrCat("schema_version is ", text, "; expected ",
                               e->version, " (prefix '",
                               PrintableKey(e->prefix), "')");
      }
      item.value = std::string();
      if (problem.empty()) continue;
      DryRunCounts& into = is_ahead ? ahead : counts;
      ++into.failed;
      if (into.failures.size() < kMaxProblems) {
        into.failures.push_back(ItemFailure{item.key, std::move(problem)});
      }
    }
  };
  auto consume = [&](PreparedBatch& batch) -> absl::Status {
    report.records_checked += batch.visited;
    if (batch.dry_counts.empty()) return absl::OkStatus();
    DryRunCounts& counts = batch.dry_counts[0];
    report.problem_count += counts.failed;
    for (ItemFailure& f : counts.failures) {
      if (report.problems.size() >= kMaxProblems) break;
      report.problems.push_back(
          ValidationProblem{std::move(f.key), "", std::move(f.message)});
    }
    DryRunCounts& ahead = batch.dry_counts[1];
    report.ahead_count += ahead.failed;
    for (ItemFailure& f : ahead.failures) {
      if (report.ahead.size() >= kMaxProblems) break;
      report.ahead.push_back(
          ValidationProblem{std::move(f.key), "", std::move(f.message)});
    }
    meter.Report(report.records_checked, "");
    return absl::OkStatus();
  };
  RM_RETURN_IF_ERROR(RunPipeline(db_, ranges, popt, transform, consume));
  return report;
}

}  // namespace rocksmigrate
