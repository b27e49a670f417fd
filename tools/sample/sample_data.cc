#include "tools/sample/sample_data.h"

#include <time.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace rocksmigrate_sample {
namespace {

const char* const kVerbs[] = {"Review", "Fix",     "Write",  "Update",
                              "Design", "Migrate", "Deploy", "Test",
                              "Plan",   "Document"};
const char* const kThings[] = {
    "the quarterly report", "the login page",      "the billing service",
    "the onboarding flow",  "the search index",    "the backup job",
    "the release notes",    "the API gateway",     "the mobile client",
    "the data pipeline",    "the on-call runbook", "the pricing table"};
const char* const kStatuses[] = {"open", "in_progress", "blocked", "done"};
const char* const kTags[] = {"backend", "frontend", "urgent", "infra",
                             "customer", "security", "docs",   "tech-debt"};
const char* const kBodies[] = {
    "Talked to the customer; they need it before the end of the month.",
    "Blocked on the schema review, see the thread in #platform.",
    "The numbers look off by one day around the DST switch.",
    "Pair with the on-call engineer before rolling this out.",
    "Moved to next sprint after planning.",
    "Reproduced locally with the staging dataset."};

// A small deterministic generator for one record's fields.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t index) : state_(Mix(seed ^ Mix(index))) {}
  uint64_t Next() {
    state_ = Mix(state_);
    return state_;
  }
  template <size_t N>
  const char* Pick(const char* const (&list)[N]) {
    return list[Next() % N];
  }

 private:
  uint64_t state_;
};

std::string IsoTime(uint64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return text;
}

constexpr uint64_t kBaseTime = 1735689600;  // 2025-01-01T00:00:00Z.

}  // namespace

const char kDeclarativeFile[] = R"({
  "from": 1,
  "to": 2,
  "name": "task_add_dependencies",
  "description": "Task v1 -> v2: add depends_on and related_tasks",
  "prefix": "task:",
  "patch": [
    {"op": "add", "path": "/depends_on", "value": []},
    {"op": "add", "path": "/related_tasks", "value": []}
  ]
}
)";

namespace {
// A "notes" member of words from the bodies, 2 to 4 KiB of value in all.
std::string Notes(Rng* rng) {
  const size_t want = 2048 + rng->Next() % 2048;
  std::string notes = R"(,"notes":")";
  while (notes.size() < want) {
    notes += rng->Pick(kBodies);
    notes += ' ';
  }
  notes += '"';
  return notes;
}
}  // namespace

std::string RecordKey(uint64_t index) {
  char key[32];
  std::snprintf(key, sizeof(key), "%s%010llu",
                IsTask(index) ? kTaskPrefix : kNotePrefix,
                static_cast<unsigned long long>(index));
  return key;
}

namespace {
bool g_big_records = false;
}  // namespace

void SetBigRecords(bool big) { g_big_records = big; }

std::string RecordValue(uint64_t seed, uint64_t index) {
  if (IsTask(index)) return TaskValue(seed, index, RecordKey(index));
  Rng rng(seed, index);
  const std::string created = IsoTime(kBaseTime + rng.Next() % 31536000);
  return absl::StrCat(R"({"id":")", RecordKey(index),
                      R"(","schema_version":1,"task":")",
                      RecordKey(index - 1), R"(","author":"user)",
                      rng.Next() % 10000, R"(","created_at":")", created,
                      R"(","body":")", rng.Pick(kBodies), R"("})");
}

std::string TaskValue(uint64_t seed, uint64_t index, std::string_view id) {
  Rng rng(seed, index);
  const std::string created = IsoTime(kBaseTime + rng.Next() % 31536000);
  // One title in 16 quotes a word (escaped), one in 16 has non-ASCII UTF-8.
  std::string title;
  switch (rng.Next() % 16) {
    case 0:
      title = absl::StrCat(rng.Pick(kVerbs), R"( the \"legacy\" importer)");
      break;
    case 1:
      title = absl::StrCat(rng.Pick(kVerbs), " the caf\xC3\xA9 menu r\xC3\xA9sum\xC3\xA9");
      break;
    default:
      title = absl::StrCat(rng.Pick(kVerbs), " ", rng.Pick(kThings));
      break;
  }
  std::string tags;
  const uint64_t tag_count = rng.Next() % 3;
  for (uint64_t t = 0; t < tag_count; ++t) {
    absl::StrAppend(&tags, t == 0 ? "\"" : ",\"", rng.Pick(kTags), "\"");
  }
  return absl::StrCat(
      R"({"id":")", std::string(id), R"(","schema_version":1,"title":")",
      title, " (#", index, R"x()","status":")x", rng.Pick(kStatuses),
      R"(","priority":)", rng.Next() % 5 + 1, R"(,"assignee":"user)",
      rng.Next() % 10000, R"(","created_at":")", created, R"(","tags":[)",
      tags, R"(],"estimate_minutes":)", (rng.Next() % 32 + 1) * 15,
      R"(,"done":)", rng.Next() % 4 == 0 ? "true" : "false",
      g_big_records ? Notes(&rng) : std::string(), "}");
}

std::string ExpectedTaskV2(std::string_view v1) {
  constexpr std::string_view kOld = R"("schema_version":1,)";
  const size_t at = v1.find(kOld);
  if (at == std::string_view::npos || v1.empty() || v1.back() != '}') {
    return std::string();
  }
  std::string out;
  out.reserve(v1.size() + 40);
  out.append(v1.substr(0, at));
  out.append(R"("schema_version":2,)");
  out.append(v1.substr(at + kOld.size(), v1.size() - 1 - at - kOld.size()));
  out.append(R"(,"depends_on":[],"related_tasks":[]})");
  return out;
}

std::string NaiveTransform(std::string_view v1) {
  nlohmann::ordered_json record = nlohmann::ordered_json::parse(
      v1.begin(), v1.end(), nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded() || !record.is_object()) return std::string();
  record["depends_on"] = nlohmann::ordered_json::array();
  record["related_tasks"] = nlohmann::ordered_json::array();
  record["schema_version"] = 2;
  return record.dump();
}

}  // namespace rocksmigrate_sample
