#include "tools/cli/recommendations.h"

#include <sys/statvfs.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rocksmigrate/status_macros.h"
#include "src/metadata.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Findings> Gather(const Migrator& migrator,
                                const MigrationRegistry& registry,
                                const std::string& db_path) {
  Findings f;
  f.now = absl::Now();
  RM_ASSIGN_OR_RETURN(f.state, migrator.Inspect());
  if (f.state.bookkeeping_status.ok()) {
    RM_ASSIGN_OR_RETURN(f.backups, migrator.ListBackups());
    // Applied files against the files loaded now (as validate checks).
    std::map<std::string, std::string> files;
    for (const Step* step : registry.steps()) {
      for (const Migration* m : step->migrations) {
        if (!m->source_file().empty()) files[m->source_file()] = m->checksum();
      }
    }
    std::map<std::string, std::string> applied;  // The newest success's sum.
    std::map<std::string, int> applied_to;
    RM_RETURN_IF_ERROR(migrator.ForEachHistoryEntry([&](const HistoryEntry& e) {
      if (e.status != StepStatus::kSuccess) return true;
      for (const auto& [file, sum] : e.checksums) {
        applied[file] = sum;
        applied_to[file] = e.to;
      }
      return true;
    }));
    if (!files.empty()) {
      for (const auto& [file, sum] : applied) {
        auto it = files.find(file);
        if (it == files.end()) {
          if (applied_to[file] <= registry.oldest_supported_version()) continue;
          f.changed_files.push_back({file, "no longer in the migrations directory"});
        } else if (it->second != sum) {
          f.changed_files.push_back(
              {file, absl::StrCat("changed since it was applied (sha256 then ",
                                  sum.substr(0, 12), "..., now ",
                                  it->second.substr(0, 12), "...)")});
        }
      }
    }
  }
  struct statvfs fs;
  if (statvfs(db_path.c_str(), &fs) == 0) {
    f.free_disk_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    f.total_disk_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  return f;
}

std::vector<Recommendation> Recommend(const CommandContext& ctx,
                                      const Findings& f) {
  std::vector<Recommendation> out;
  const DatabaseState& s = f.state;
  if (!s.bookkeeping_status.ok()) {
    out.push_back({"critical", "bookkeeping",
                   absl::StrCat("bookkeeping cannot be trusted: ",
                                EscapeText(s.bookkeeping_status.message())),
                   Cmd(ctx, "status")});
    return out;  // Nothing else can be read with confidence.
  }
  if (s.newer_than_supported) {
    out.push_back({"critical", "newer_schema",
                   absl::StrCat("the stored schema v", s.current_version,
                                " is newer than this binary's newest, v",
                                s.target_version,
                                ": use the build and migrations that know it"),
                   ""});
  }
  if (!s.plan_status.ok()) {
    out.push_back({"critical", "cannot_plan",
                   EscapeText(s.plan_status.message()), Cmd(ctx, "status")});
  }
  if (s.in_flight) {
    const InFlight& r = *s.in_flight;
    const std::optional<absl::Time> updated = ParseIsoTime(r.updated_at);
    const bool stale = updated && f.now - *updated > absl::Minutes(1) &&
                       r.pacing.find("paused") == std::string::npos;
    if (stale) {
      out.push_back({"warning", "stale_run",
                     absl::StrCat("run ", r.run_id, " (v", r.from, " -> v", r.to,
                                  ", ", ToString(r.state),
                                  ") has recorded no progress since ",
                                  r.updated_at,
                                  ": is the process that ran it gone? migrate "
                                  "resumes it (or abandon gives it up)"),
                     Cmd(ctx, "migrate")});
    } else {
      out.push_back({"info", "run_in_flight",
                     absl::StrCat("run ", r.run_id, " (v", r.from, " -> v", r.to,
                                  ", ", ToString(r.state), ") is in flight"),
                     Cmd(ctx, "status")});
    }
  }
  if (!s.in_flight && !s.recent_history.empty() &&
      s.recent_history.back().status == StepStatus::kFailed) {
    const HistoryEntry& e = s.recent_history.back();
    out.push_back({"warning", "failed_run",
                   absl::StrCat("the last step, v", e.from, " -> v", e.to,
                                ", failed (its records were restored): ",
                                EscapeText(e.error.value_or("")),
                                "; fix the record or the migration, then "
                                "migrate"),
                   Cmd(ctx, "migrate --dry-run")});
  }
  if (!s.in_flight && !s.pending.empty()) {
    out.push_back({"info", "pending_steps",
                   absl::StrCat(s.pending.size(), " step",
                                s.pending.size() == 1 ? "" : "s",
                                " pending (v", s.current_version, " -> v",
                                s.target_version,
                                "): preview them, then migrate"),
                   Cmd(ctx, "migrate --dry-run")});
  }
  for (const auto& [file, why] : f.changed_files) {
    out.push_back({"warning", "changed_file",
                   absl::StrCat("migration file ", file, " ", why,
                                "; put the applied version back and make the "
                                "change a new file (or, on a development "
                                "database, migrate --redo)"),
                   Cmd(ctx, "validate")});
  }
  uint64_t old_count = 0;
  uint64_t old_bytes = 0;
  size_t readable = 0;
  for (const BackupInfo& b : f.backups) {
    if (!b.readable) {
      out.push_back({"warning", "unreadable_backup",
                     absl::StrCat("backup ", b.id, "'s manifest is unreadable: ",
                                  EscapeText(b.problem)),
                     Cmd(ctx, absl::StrCat("backups delete ", b.id, " --force"))});
      continue;
    }
    ++readable;
  }
  size_t seen = 0;
  for (const BackupInfo& b : f.backups) {
    if (!b.readable) continue;
    ++seen;
    if (seen == readable) break;  // The newest is never counted as old.
    const std::optional<absl::Time> created = ParseIsoTime(b.created_at);
    if (created && f.now - *created > kOldBackupAge) {
      ++old_count;
      old_bytes += b.approximate_bytes;
    }
  }
  if (old_count > 0) {
    out.push_back({"info", "old_backups",
                   absl::StrCat(old_count, " backup", old_count == 1 ? "" : "s",
                                " older than 30 days (about ",
                                FormatBytes(old_bytes),
                                "); the steps they undo can no longer be "
                                "rolled back once they are pruned"),
                   Cmd(ctx, "backups prune --older-than 30d --keep 1")});
  }
  if (f.free_disk_bytes && f.total_disk_bytes && *f.total_disk_bytes > 0) {
    const double share = static_cast<double>(*f.free_disk_bytes) /
                         static_cast<double>(*f.total_disk_bytes);
    if (share < 0.10 || *f.free_disk_bytes < (1ull << 30)) {
      uint64_t backup_bytes = 0;
      for (const BackupInfo& b : f.backups) backup_bytes += b.approximate_bytes;
      out.push_back({"warning", "low_disk",
                     absl::StrCat("only ", FormatBytes(*f.free_disk_bytes),
                                  " free on the database's file system (",
                                  static_cast<int>(share * 100), "%); a step "
                                  "needs about twice its records' size; "
                                  "backups take about ",
                                  FormatBytes(backup_bytes)),
                     Cmd(ctx, "backups list")});
    }
  }
  return out;
}

Json RecommendationToJson(const Recommendation& r) {
  return Json{{"severity", r.severity},
              {"kind", r.kind},
              {"message", r.message},
              {"command", r.command.empty() ? Json(nullptr) : Json(r.command)}};
}

}  // namespace rocksmigrate::cli
