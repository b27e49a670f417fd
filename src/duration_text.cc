#include "src/duration_text.h"

#include <string>

#include "absl/strings/numbers.h"

namespace rocksmigrate {

std::optional<absl::Duration> ParseDurationText(std::string_view text) {
  if (text.size() >= 2 && (text.back() == 'd' || text.back() == 'w')) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(std::string(text.substr(0, text.size() - 1)), &n) ||
        n < 0 || n > 100000) {
      return std::nullopt;
    }
    return absl::Hours(24) * n * (text.back() == 'w' ? 7 : 1);
  }
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d) || d < absl::ZeroDuration()) {
    return std::nullopt;
  }
  return d;
}

}  // namespace rocksmigrate
