// `report` (one document for an operator or a ticket: status, history
// summary, backups with sizes and ages, validation summary, disk space,
// recommendations) and `recommendations` (what to look at, each with the
// command that acts on it). Read-only, beside a live server; `report
// --validate` also scans every migrated record (as `validate` does).
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/health.h"
#include "rocksmigrate/status_macros.h"
#include "src/metadata.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"
#include "tools/cli/recommendations.h"

namespace rocksmigrate::cli {
namespace {

// A command as the JSON documents carry it: without the backticks.
std::string Plain(const std::string& cmd) {
  if (cmd.size() >= 2 && cmd.front() == '`' && cmd.back() == '`') {
    return cmd.substr(1, cmd.size() - 2);
  }
  return cmd;
}

Json ToJson(const Recommendation& r) {
  Json j = RecommendationToJson(r);
  if (!r.command.empty()) j["command"] = Plain(r.command);
  return j;
}

void PrintRecommendations(CommandContext& ctx,
                          const std::vector<Recommendation>& recs) {
  if (recs.empty()) {
    ctx.out << "no recommendations: nothing needs attention\n";
    return;
  }
  for (const Recommendation& r : recs) {
    ctx.out << r.severity << ": " << r.message << '\n';
    if (!r.command.empty()) ctx.out << "    " << r.command << '\n';
  }
}

}  // namespace

absl::StatusOr<Outcome> RunRecommendations(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  RM_ASSIGN_OR_RETURN(Findings f,
                      Gather(*opened.migrator, *ctx.registry, ctx.inv.db));
  const std::vector<Recommendation> recs = Recommend(ctx, f);
  if (ctx.inv.json) {
    Json list = Json::array();
    for (const Recommendation& r : recs) list.push_back(ToJson(r));
    PrintJson(ctx, Json{{"database", ctx.inv.db},
                        {"recommendations", std::move(list)}});
  } else {
    PrintRecommendations(ctx, recs);
  }
  return Outcome::kDone;
}

absl::StatusOr<Outcome> RunReportCommand(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  const Migrator& m = *opened.migrator;
  RM_ASSIGN_OR_RETURN(Findings f, Gather(m, *ctx.registry, ctx.inv.db));
  const DatabaseState& s = f.state;
  const HealthReport health = AssessHealth(s);

  // The history by outcome, and the newest success.
  std::map<std::string, uint64_t> by_status;
  std::optional<HistoryEntry> last_success;
  uint64_t migrated = 0;
  if (s.bookkeeping_status.ok()) {
    RM_RETURN_IF_ERROR(m.ForEachHistoryEntry([&](const HistoryEntry& e) {
      ++by_status[ToString(e.status)];
      migrated += e.items_migrated;
      if (e.status == StepStatus::kSuccess) last_success = e;
      return true;
    }));
  }
  std::optional<ValidationReport> validation;
  if (ctx.inv.Has("validate") && s.bookkeeping_status.ok()) {
    RM_ASSIGN_OR_RETURN(ValidationReport v, m.Validate());
    validation = std::move(v);
  }
  uint64_t backup_bytes = 0;
  for (const BackupInfo& b : f.backups) backup_bytes += b.approximate_bytes;
  const std::vector<Recommendation> recs = Recommend(ctx, f);

  if (ctx.inv.json) {
    Json doc = Json::object();
    doc["database"] = ctx.inv.db;
    doc["generated_at"] =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", f.now, absl::UTCTimeZone());
    Json status = Json::object();
    status["health"] = ToString(health.health);
    status["summary"] = EscapeText(health.summary);
    status["current_version"] = s.current_version;
    status["target_version"] = s.target_version;
    status["pending_steps"] = s.pending.size();
    status["in_flight"] = s.in_flight ? InFlightToJson(*s.in_flight) : Json(nullptr);
    status["bookkeeping_error"] =
        s.bookkeeping_status.ok() ? Json(nullptr)
                                  : Json(EscapeText(s.bookkeeping_status.message()));
    doc["status"] = std::move(status);
    Json history = Json::object();
    history["entries"] = s.history_total;
    Json statuses = Json::object();
    for (const auto& [k, n] : by_status) statuses[k] = n;
    history["by_status"] = std::move(statuses);
    history["records_migrated"] = migrated;
    history["last_success"] =
        last_success ? cli::HistoryEntryToJson(*last_success) : Json(nullptr);
    history["last"] = s.recent_history.empty()
                          ? Json(nullptr)
                          : cli::HistoryEntryToJson(s.recent_history.back());
    doc["history"] = std::move(history);
    Json backups = Json::array();
    for (const BackupInfo& b : f.backups) {
      Json j = BackupToJson(b);
      const std::optional<absl::Time> created =
          b.readable ? ParseIsoTime(b.created_at) : std::nullopt;
      j["age_seconds"] = created ? Json(absl::ToInt64Seconds(f.now - *created))
                                 : Json(nullptr);
      backups.push_back(std::move(j));
    }
    doc["backups"] = Json{{"count", f.backups.size()},
                          {"approximate_bytes", backup_bytes},
                          {"list", std::move(backups)}};
    Json files = Json::array();
    for (const auto& [file, why] : f.changed_files) {
      files.push_back(Json{{"file", file}, {"problem", why}});
    }
    doc["validation"] = Json{
        {"changed_files", std::move(files)},
        {"records", validation ? ValidationToJson(*validation) : Json(nullptr)},
        {"records_checked", validation.has_value()}};
    doc["disk"] = Json{{"path", ctx.inv.db},
                       {"free_bytes", f.free_disk_bytes ? Json(*f.free_disk_bytes)
                                                        : Json(nullptr)},
                       {"total_bytes", f.total_disk_bytes ? Json(*f.total_disk_bytes)
                                                          : Json(nullptr)}};
    Json list = Json::array();
    for (const Recommendation& r : recs) list.push_back(ToJson(r));
    doc["recommendations"] = std::move(list);
    PrintJson(ctx, doc);
    return Outcome::kDone;
  }

  std::ostream& o = ctx.out;
  o << "database:        " << ctx.inv.db << '\n';
  o << "health:          " << EscapeText(health.summary) << '\n';
  o << "history:         " << s.history_total << " entr"
    << (s.history_total == 1 ? "y" : "ies");
  for (const auto& [k, n] : by_status) o << ", " << n << " " << k;
  o << '\n';
  if (last_success) {
    o << "last success:    v" << last_success->from << " -> v" << last_success->to
      << " at " << last_success->started_at << '\n';
  }
  o << "backups:         " << f.backups.size() << ", about "
    << FormatBytes(backup_bytes) << '\n';
  if (f.free_disk_bytes && f.total_disk_bytes) {
    o << "disk:            " << FormatBytes(*f.free_disk_bytes) << " free of "
      << FormatBytes(*f.total_disk_bytes) << '\n';
  }
  o << "files:           "
    << (f.changed_files.empty()
            ? std::string("applied migration files unchanged")
            : absl::StrCat(f.changed_files.size(), " changed or missing"))
    << '\n';
  if (validation) {
    o << "records:         " << FormatCount(validation->records_checked)
      << " checked, " << validation->problem_count << " problem"
      << (validation->problem_count == 1 ? "" : "s") << '\n';
  } else {
    o << "records:         not checked (report --validate scans them)\n";
  }
  o << "recommendations:\n";
  if (recs.empty()) {
    o << "  none: nothing needs attention\n";
  } else {
    for (const Recommendation& r : recs) {
      o << "  " << r.severity << ": " << r.message << '\n';
      if (!r.command.empty()) o << "      " << r.command << '\n';
    }
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
