// StartupOptionsFromEnvironment(): the startup call configured by a
// container's environment.
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksmigrate/startup.h"
#include "src/duration_text.h"

namespace rocksmigrate {
namespace {

absl::Status Bad(const char* name, const std::string& value,
                 const char* expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "environment variable ", name, " is \"", value, "\"; expected ",
      expected, " (or unset it for the default)"));
}

absl::Status ReadSwitch(const char* name, const std::string& value,
                        bool* out) {
  if (value == "on" || value == "1" || value == "true" || value == "yes") {
    *out = true;
  } else if (value == "off" || value == "0" || value == "false" ||
             value == "no") {
    *out = false;
  } else {
    return Bad(name, value, "on or off");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StartupOptions> StartupOptionsFromEnvironment(
    const std::function<const char*(const char*)>& getenv) {
  auto get = [&getenv](const char* name) -> std::optional<std::string> {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    if (v == nullptr || *v == 0) return std::nullopt;
    return std::string(v);
  };
  StartupOptions o;
  if (auto v = get("ROCKSMIGRATE_AUTO_MIGRATE")) {
    if (absl::Status s = ReadSwitch("ROCKSMIGRATE_AUTO_MIGRATE", *v,
                                    &o.auto_migrate);
        !s.ok()) {
      return s;
    }
  }
  if (auto v = get("ROCKSMIGRATE_VALIDATE")) {
    if (absl::Status s =
            ReadSwitch("ROCKSMIGRATE_VALIDATE", *v, &o.validate_after);
        !s.ok()) {
      return s;
    }
  }
  if (auto v = get("ROCKSMIGRATE_FOREGROUND_BUDGET")) {
    std::optional<absl::Duration> d = ParseDurationText(*v);
    if (!d) {
      return Bad("ROCKSMIGRATE_FOREGROUND_BUDGET", *v,
                 "a duration such as 0, 30s, 5m or inf");
    }
    o.foreground_budget = *d;
  }
  if (auto v = get("ROCKSMIGRATE_WHEN_BUDGET_RUNS_OUT")) {
    if (*v == "refuse") {
      o.when_budget_runs_out = StartupOptions::WhenBudgetRunsOut::kRefuse;
    } else if (*v == "background") {
      o.when_budget_runs_out =
          StartupOptions::WhenBudgetRunsOut::kContinueInBackground;
    } else {
      return Bad("ROCKSMIGRATE_WHEN_BUDGET_RUNS_OUT", *v,
                 "refuse or background");
    }
  }
  std::optional<RetentionPolicy> retention;
  if (auto v = get("ROCKSMIGRATE_BACKUP_KEEP")) {
    uint64_t keep = 0;
    if (!absl::SimpleAtoi(*v, &keep) || keep > 1000000000) {
      return Bad("ROCKSMIGRATE_BACKUP_KEEP", *v, "a count of backups, e.g. 3");
    }
    retention.emplace().keep = static_cast<size_t>(keep);
  }
  if (auto v = get("ROCKSMIGRATE_BACKUP_MAX_AGE")) {
    std::optional<absl::Duration> d = ParseDurationText(*v);
    if (!d || *d <= absl::ZeroDuration() || *d == absl::InfiniteDuration()) {
      return Bad("ROCKSMIGRATE_BACKUP_MAX_AGE", *v,
                 "an age such as 30d, 2w or 12h");
    }
    if (!retention) retention.emplace();
    retention->older_than = *d;
  }
  o.backup_retention = retention;
  if (auto v = get("ROCKSMIGRATE_PAUSE_FILE")) o.pacing.pause_file = *v;
  if (auto v = get("ROCKSMIGRATE_RECORDS_PER_SECOND")) {
    uint64_t rate = 0;
    if (!absl::SimpleAtoi(*v, &rate)) {
      return Bad("ROCKSMIGRATE_RECORDS_PER_SECOND", *v,
                 "records per second, e.g. 20000 (0: unlimited)");
    }
    o.pacing.records_per_second = rate;
  }
  return o;
}

}  // namespace rocksmigrate
