// `history` (streamed: one entry in memory at a time) and `validate`.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Outcome> RunHistory(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  size_t count = 0;
  std::ostream& o = ctx.out;
  absl::Status s;
  if (ctx.inv.json) {
    // One document, written as the entries are read.
    o << "{\n  \"database\": " << Json(ctx.inv.db).dump() << ",\n  \"history\": [";
    s = opened.migrator->ForEachHistoryEntry([&](const HistoryEntry& e) {
      std::string entry = DumpJson(HistoryEntryToJson(e));
      o << (count++ == 0 ? "\n" : ",\n") << entry;
      return true;
    });
    o << (count == 0 ? "]\n}\n" : "\n  ]\n}\n") << std::flush;
    ctx.printed_json = true;
    RM_RETURN_IF_ERROR(s);
    return Outcome::kDone;
  }
  s = opened.migrator->ForEachHistoryEntry([&](const HistoryEntry& e) {
    ++count;
    o << HistoryLine(e) << '\n';
    if (!e.migrations.empty()) {
      o << "      migrations: " << absl::StrJoin(e.migrations, ", ");
      for (const auto& [file, sha] : e.checksums) {
        o << "; " << file << " sha256 " << sha.substr(0, 12) << "...";
      }
      o << '\n';
    }
    return true;
  });
  RM_RETURN_IF_ERROR(s);
  if (count == 0) o << "no migration runs recorded in " << ctx.inv.db << '\n';
  return Outcome::kDone;
}

absl::StatusOr<Outcome> RunValidate(CommandContext& ctx) {
  RM_ASSIGN_OR_RETURN(Opened opened, Open(ctx, OpenMode::kReadOnly));
  RM_ASSIGN_OR_RETURN(ValidationReport report, opened.migrator->Validate());
  if (ctx.inv.json) {
    Json doc = ValidationToJson(report);
    doc["database"] = ctx.inv.db;
    PrintJson(ctx, doc);
  } else {
    ctx.out << "checked " << FormatCount(report.records_checked)
            << " records under migrated prefixes\n";
    for (const ValidationProblem& p : report.problems) {
      ctx.out << "  "
              << (p.key.empty() ? p.file : absl::StrCat("key ",
                                                        EscapeBytes(p.key)))
              << ": " << EscapeText(p.message) << '\n';
    }
    if (report.problem_count > report.problems.size()) {
      ctx.out << "  ... and "
              << FormatCount(report.problem_count - report.problems.size())
              << " more\n";
    }
    for (const ValidationProblem& p : report.ahead) {
      ctx.out << "  note: key " << EscapeBytes(p.key) << ": "
              << EscapeText(p.message) << '\n';
    }
    if (report.ahead_count > report.ahead.size()) {
      ctx.out << "  note: ... and "
              << FormatCount(report.ahead_count - report.ahead.size())
              << " more above their version\n";
    }
    if (report.ok()) {
      ctx.out << "ok: no problems found";
      if (report.ahead_count > 0) {
        ctx.out << " (" << FormatCount(report.ahead_count)
                << " records above their prefix's version, noted above)";
      }
      ctx.out << '\n';
    }
  }
  if (report.ok()) return Outcome::kDone;
  const ValidationProblem& first = report.problems.front();
  ctx.err << "error: validate found " << FormatCount(report.problem_count)
          << " problem" << (report.problem_count == 1 ? "" : "s")
          << " (first: "
          << (first.key.empty() ? first.file
                                : absl::StrCat("key ", EscapeBytes(first.key)))
          << ": " << FirstLine(EscapeText(first.message))
          << "); inspect the records, or " << Cmd(ctx, "history")
          << " for what was applied\n";
  return Outcome::kProblems;
}

}  // namespace rocksmigrate::cli
