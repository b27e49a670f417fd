#include "tools/cli/format.h"

#include <cinttypes>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rocksmigrate::cli {

namespace {

std::string Escape(std::string_view bytes, bool double_backslash) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c == '\\' && double_backslash) {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("\\x%02X", c);
    }
  }
  return out;
}

}  // namespace

std::string EscapeBytes(std::string_view bytes) { return Escape(bytes, true); }

std::string EscapeText(std::string_view text) { return Escape(text, false); }

std::string FormatCount(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string FormatMillis(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return absl::StrCat(ms, "ms");
  if (ms < 60 * 1000) return absl::StrFormat("%.1fs", ms / 1000.0);
  int64_t s = ms / 1000;
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 2 * 86400) {
    return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  }
  return absl::StrFormat("%dd%02dh", s / 86400, (s % 86400) / 3600);
}

std::string HumanDuration(absl::Duration d) {
  return FormatMillis(absl::ToInt64Milliseconds(d));
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static const char* const kUnits[] = {"KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

namespace {

Json OptionalText(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return EscapeText(*text);
}

Json EscapeAll(const std::vector<std::string>& raw) {
  Json out = Json::array();
  for (const std::string& r : raw) out.push_back(EscapeBytes(r));
  return out;
}

}  // namespace

Json HistoryEntryToJson(const HistoryEntry& entry) {
  Json j = Json::object();
  j["run_id"] = entry.run_id;
  j["from"] = entry.from;
  j["to"] = entry.to;
  j["migrations"] = entry.migrations;
  j["status"] = std::string(ToString(entry.status));
  j["items_migrated"] = entry.items_migrated;
  j["items_skipped"] = entry.items_skipped;
  j["items_ahead"] = entry.items_ahead;
  j["started_at"] = entry.started_at;
  j["duration_ms"] = entry.duration_ms;
  j["backup_id"] = OptionalText(entry.backup_id);
  j["backup_column_family"] = entry.backup_column_family.empty()
                                  ? Json(nullptr)
                                  : Json(EscapeBytes(entry.backup_column_family));
  j["error"] = OptionalText(entry.error);
  Json checksums = Json::object();
  for (const auto& [file, sha] : entry.checksums) checksums[file] = sha;
  j["checksums"] = std::move(checksums);
  j["empty_prefixes"] = EscapeAll(entry.empty_prefixes);
  j["mode"] = ToString(entry.mode);
  j["items_kept"] = entry.items_kept;
  j["kept_keys"] = EscapeAll(entry.kept_keys);
  j["down"] = entry.down;
  return j;
}

Json BackupToJson(const BackupInfo& backup) {
  Json j = Json::object();
  j["id"] = backup.id;
  j["column_family"] = EscapeBytes(backup.column_family);
  j["readable"] = backup.readable;
  if (!backup.readable) {
    j["problem"] = EscapeText(backup.problem);
    return j;
  }
  j["from"] = backup.from;
  j["to"] = backup.to;
  j["created_at"] = backup.created_at;
  Json prefixes = Json::array();
  for (const std::string& p : backup.prefixes) prefixes.push_back(EscapeBytes(p));
  j["prefixes"] = std::move(prefixes);
  j["item_count"] = backup.item_count;
  j["complete"] = backup.complete;
  j["run_id"] = backup.run_id;
  j["approximate_bytes"] = backup.approximate_bytes;
  return j;
}

double EtaSeconds(const InFlight& f) {
  if (f.state != StepState::kMigrating || f.records_per_second == 0 ||
      f.items_total_estimate == 0 || f.pacing.rfind("paused", 0) == 0) {
    return -1;  // Unknown, or none while paused.
  }
  const uint64_t done = f.items_migrated + f.items_skipped;
  if (done >= f.items_total_estimate) return 0;
  return static_cast<double>(f.items_total_estimate - done) /
         static_cast<double>(f.records_per_second);
}

Json InFlightToJson(const InFlight& f) {
  Json j = Json::object();
  j["run_id"] = f.run_id;
  j["state"] = std::string(ToString(f.state));
  j["reason"] = f.reason == RestoreReason::kNone
                    ? Json(nullptr)
                    : Json(std::string(ToString(f.reason)));
  j["from"] = f.from;
  j["to"] = f.to;
  j["backup_id"] = OptionalText(f.backup_id);
  j["prefix"] = EscapeBytes(f.prefix);
  j["last_key"] = EscapeBytes(f.last_key);
  j["items_migrated"] = f.items_migrated;
  j["items_skipped"] = f.items_skipped;
  j["items_ahead"] = f.items_ahead;
  j["items_restored"] = f.items_restored;
  j["started_at"] = f.started_at;
  j["error"] = OptionalText(f.error);
  j["rollback_target"] =
      f.rollback_target ? Json(*f.rollback_target) : Json(nullptr);
  j["mode"] = ToString(f.mode);
  j["items_kept"] = f.items_kept;
  j["down"] = f.down;
  j["rollback_using"] = ToString(f.rollback_using);
  j["kept_keys"] = EscapeAll(f.kept_keys);
  j["last_progress_at"] = f.updated_at.empty() ? Json(nullptr) : Json(f.updated_at);
  j["records_per_second"] = f.records_per_second;
  j["items_total_estimate"] = f.items_total_estimate;
  const double eta = EtaSeconds(f);
  j["eta_seconds"] = eta < 0 ? Json(nullptr) : Json(eta);
  j["pacing"] = f.pacing.empty() ? Json(nullptr) : Json(f.pacing);
  return j;
}

Json PendingStepToJson(const PendingStep& pending) {
  Json j = StepToJson(pending.step);
  j["empty_prefixes"] = EscapeAll(pending.empty_prefixes);
  return j;
}

Json StepToJson(const Step& step) {
  Json j = Json::object();
  j["from"] = step.from;
  j["to"] = step.to;
  Json migrations = Json::array();
  for (const Migration* m : step.migrations) {
    Json mj = Json::object();
    mj["name"] = m->name();
    mj["prefix"] = EscapeBytes(m->prefix());
    std::string file = m->source_file();
    mj["file"] = file.empty() ? Json(nullptr) : Json(file);
    migrations.push_back(std::move(mj));
  }
  j["migrations"] = std::move(migrations);
  return j;
}

Json DryRunToJson(const DryRunReport& report) {
  Json j = Json::object();
  j["dry_run"] = true;
  j["from"] = report.from_version;
  j["to"] = report.to_version;
  j["records_scanned"] = report.records_scanned;
  j["elapsed_ms"] = absl::ToInt64Milliseconds(report.elapsed);
  j["estimated_duration_ms"] =
      absl::ToInt64Milliseconds(report.estimated_duration);
  j["would_fail"] = report.would_fail();
  j["would_stamp"] = report.would_stamp;
  j["in_flight_action"] =
      report.in_flight_action
          ? Json(std::string(ToString(*report.in_flight_action)))
          : Json(nullptr);
  Json steps = Json::array();
  for (const DryRunStep& s : report.steps) {
    Json sj = Json::object();
    sj["from"] = s.from;
    sj["to"] = s.to;
    sj["migrations"] = s.migrations;
    sj["items_to_migrate"] = s.items_to_migrate;
    sj["items_to_delete"] = s.items_to_delete;
    sj["items_skipped"] = s.items_skipped;
    sj["items_ahead"] = s.items_ahead;
    sj["items_failed"] = s.items_failed;
    sj["empty_prefixes"] = EscapeAll(s.empty_prefixes);
    sj["resumes_in_flight"] = s.resumes_in_flight;
    if (s.undo_by) {
      sj["undo_by"] = ToString(*s.undo_by);
      sj["backup_id"] = s.backup_id ? Json(*s.backup_id) : Json(nullptr);
      sj["simulated"] = s.simulated;
    }
    sj["bytes_to_write"] = s.bytes_to_write;
    Json failures = Json::array();
    for (const ItemFailure& f : s.first_failures) {
      failures.push_back(
          Json{{"key", EscapeBytes(f.key)}, {"error", EscapeText(f.message)}});
    }
    sj["first_failures"] = std::move(failures);
    steps.push_back(std::move(sj));
  }
  j["steps"] = std::move(steps);
  return j;
}

Json RunReportToJson(const RunReport& report) {
  Json j = Json::object();
  j["run_id"] = report.run_id;
  j["from"] = report.from_version;
  j["to"] = report.to_version;
  j["stamped_empty"] = report.stamped_empty;
  j["resumed"] = report.resumed;
  j["in_flight_action"] =
      report.in_flight_action
          ? Json(std::string(ToString(*report.in_flight_action)))
          : Json(nullptr);
  Json steps = Json::array();
  for (const HistoryEntry& e : report.steps) {
    steps.push_back(HistoryEntryToJson(e));
  }
  j["steps"] = std::move(steps);
  return j;
}

Json ValidationToJson(const ValidationReport& report) {
  Json j = Json::object();
  j["ok"] = report.ok();
  j["records_checked"] = report.records_checked;
  j["problem_count"] = report.problem_count;
  Json problems = Json::array();
  for (const ValidationProblem& p : report.problems) {
    Json pj = Json::object();
    pj["key"] = p.key.empty() ? Json(nullptr) : Json(EscapeBytes(p.key));
    pj["file"] = p.file.empty() ? Json(nullptr) : Json(p.file);
    pj["message"] = EscapeText(p.message);
    problems.push_back(std::move(pj));
  }
  j["problems"] = std::move(problems);
  j["ahead_count"] = report.ahead_count;
  Json ahead = Json::array();
  for (const ValidationProblem& p : report.ahead) {
    ahead.push_back(Json{{"key", EscapeBytes(p.key)},
                         {"message", EscapeText(p.message)}});
  }
  j["ahead"] = std::move(ahead);
  return j;
}

std::string DumpJson(const Json& doc) {
  return doc.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace rocksmigrate::cli
