// Durations as operators type them, in flags and environment variables:
// absl's syntax ("90s", "12h", "1h30m", "0", "inf") plus whole days and
// weeks ("30d", "2w").
#ifndef ROCKSMIGRATE_SRC_DURATION_TEXT_H_
#define ROCKSMIGRATE_SRC_DURATION_TEXT_H_

#include <optional>
#include <string_view>

#include "absl/time/time.h"

namespace rocksmigrate {

// The duration `text` says, never negative (InfiniteDuration for "inf");
// nullopt for anything else.
std::optional<absl::Duration> ParseDurationText(std::string_view text);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_DURATION_TEXT_H_
