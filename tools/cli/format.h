// Output helpers of the admin tool: escaping of raw key bytes, numbers and
// durations for people, and the JSON shape of the engine's reports (SPEC §5).
#ifndef ROCKSMIGRATE_TOOLS_CLI_FORMAT_H_
#define ROCKSMIGRATE_TOOLS_CLI_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"

namespace rocksmigrate::cli {

// Printable ASCII stays as is (a backslash is doubled); every other byte,
// including newlines and non-ASCII, becomes \xHH. The result is one line of
// valid UTF-8, safe in a terminal and in a JSON string.
std::string EscapeBytes(std::string_view bytes);

// Like EscapeBytes() but leaves backslashes alone: for messages that may
// already hold escaped keys.
std::string EscapeText(std::string_view text);
// For absl::Status::message() (Debian's absl::string_view is its own type).
inline std::string EscapeText(absl::string_view text) {
  return EscapeText(std::string_view(text.data(), text.size()));
}
inline std::string EscapeText(const std::string& text) {
  return EscapeText(std::string_view(text));
}
inline std::string EscapeText(const char* text) {
  return EscapeText(std::string_view(text));
}

// 1234567 -> "1,234,567".
std::string FormatCount(uint64_t n);
// Seconds to the end of the migrating step `f` at its last recorded rate;
// negative when unknown (no rate or estimate yet, a restore, or paused).
double EtaSeconds(const InFlight& f);

// 850ms, 12.3s, 4m12s, 1h02m, 3d04h (from two days on).
std::string HumanDuration(absl::Duration d);
std::string FormatMillis(int64_t ms);

// Bytes as "512 B", "3.4 MB".
std::string FormatBytes(uint64_t bytes);

// The JSON documents of `--json` (SPEC §5 field names).
Json HistoryEntryToJson(const HistoryEntry& entry);
Json BackupToJson(const BackupInfo& backup);
Json InFlightToJson(const InFlight& in_flight);
Json StepToJson(const Step& step);
Json PendingStepToJson(const PendingStep& pending);
Json DryRunToJson(const DryRunReport& report);
Json RunReportToJson(const RunReport& report);
Json ValidationToJson(const ValidationReport& report);

// Serializes one document; never throws (invalid UTF-8 is replaced).
std::string DumpJson(const Json& doc);

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_FORMAT_H_
