#include "rocksmigrate/registry.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/keys.h"

namespace rocksmigrate {
namespace {

std::string Describe(const Migration& m) {
  std::string file = m.source_file();
  return file.empty()
             ? absl::StrCat("migration '", m.name(), "'")
             : absl::StrCat("migration '", m.name(), "' (", file, ")");
}

}  // namespace

std::string Step::Describe() const {
  return absl::StrCat("v", from, " -> v", to);
}

absl::Status MigrationRegistry::Register(std::unique_ptr<Migration> migration) {
  if (migration == nullptr) {
    return absl::InvalidArgumentError("cannot register a null migration");
  }
  const Migration& m = *migration;
  if (m.from() < 0 || m.to() != m.from() + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        rocksmigrate::Describe(m), ": goes from v", m.from(), " to v", m.to(),
        "; a migration must go up by exactly one version"));
  }
  if (m.from() < oldest_supported_) {
    return absl::InvalidArgumentError(absl::StrCat(
        rocksmigrate::Describe(m), ": goes from v", m.from(),
        ", below the oldest supported version v", oldest_supported_,
        " (the baseline); delete it (its step is squashed) or lower the "
        "baseline"));
  }
  const std::string prefix = m.prefix();
  if (!prefix.empty() && prefix[0] == '_') {
    return absl::InvalidArgumentError(absl::StrCat(
        rocksmigrate::Describe(m), ": prefix '", PrintableKey(prefix),
        "' starts with '_', which is reserved for rocksmigrate's own keys"));
  }
  if (m.name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the migration v", m.from(), " -> v", m.to(),
                     " for prefix '", PrintableKey(prefix), "' has no name"));
  }
  auto it = steps_.find(m.from());
  if (it != steps_.end()) {
    for (const Migration* other : it->second.migrations) {
      const std::string op = other->prefix();
      if (op == prefix) {
        return absl::InvalidArgumentError(absl::StrCat(
            rocksmigrate::Describe(m), ": duplicate of ",
            rocksmigrate::Describe(*other), " for step v", m.from(), " -> v",
            m.to(), " and prefix '", PrintableKey(prefix), "'"));
      }
      if (op.compare(0, prefix.size(), prefix) == 0 ||
          prefix.compare(0, op.size(), op) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            rocksmigrate::Describe(m), ": prefix '", PrintableKey(prefix),
            "' overlaps prefix '", PrintableKey(op), "' of ",
            rocksmigrate::Describe(*other), " in step v", m.from(), " -> v",
            m.to(), "; their records would be migrated twice"));
      }
    }
  }
  Step& step = steps_[m.from()];
  step.from = m.from();
  step.to = m.to();
  step.migrations.push_back(migration.get());
  std::sort(step.migrations.begin(), step.migrations.end(),
            [](const Migration* a, const Migration* b) {
              return a->prefix() < b->prefix();
            });
  owned_.push_back(std::move(migration));
  return absl::OkStatus();
}

int MigrationRegistry::oldest_version() const { return steps_.begin()->first; }

int MigrationRegistry::newest_version() const {
  return steps_.rbegin()->second.to;
}

int MigrationRegistry::target_version(int fallback) const {
  if (!steps_.empty()) return std::max(newest_version(), oldest_supported_);
  return oldest_supported_ > 0 ? oldest_supported_ : fallback;
}

absl::Status MigrationRegistry::SetOldestSupportedVersion(
    int version, std::string upgrade_hint) {
  if (version < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the oldest supported version must be at least 1, not ", version));
  }
  if (!steps_.empty() && oldest_version() < version) {
    const Step& low = steps_.begin()->second;
    return absl::InvalidArgumentError(absl::StrCat(
        "the oldest supported version v", version, " is above step ",
        low.Describe(), ", which is registered; delete the migrations below v",
        version, " (they are squashed) or lower the version"));
  }
  oldest_supported_ = version;
  upgrade_hint_ = std::move(upgrade_hint);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Step>> MigrationRegistry::PlanPath(int from,
                                                              int to) const {
  if (from >= to) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot plan a path from v", from, " to v", to,
        ": migrations only go up (Migrator::Rollback goes down)"));
  }
  if (from < oldest_supported_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database is at v", from, ", below v", oldest_supported_,
        ", the oldest version this binary migrates from (its migrations "
        "below v", oldest_supported_, " were squashed); ",
        upgrade_hint_.empty()
            ? absl::StrCat("bring it to v", oldest_supported_,
                           " with an earlier release first")
            : upgrade_hint_,
        "; nothing was written"));
  }
  std::vector<Step> path;
  for (int v = from; v < to; ++v) {
    const Step* step = FindStep(v);
    if (step == nullptr) {
      std::string known;
      for (const auto& [f, s] : steps_) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", s.Describe());
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "no migration for step v", v, " -> v", v + 1, " (needed to go from v",
          from, " to v", to, "); registered steps: ",
          known.empty() ? "none" : known));
    }
    path.push_back(*step);
  }
  return path;
}

const Step* MigrationRegistry::FindStep(int from) const {
  auto it = steps_.find(from);
  return it == steps_.end() ? nullptr : &it->second;
}

std::vector<const Step*> MigrationRegistry::steps() const {
  std::vector<const Step*> out;
  for (const auto& [from, step] : steps_) out.push_back(&step);
  return out;
}

std::vector<std::string> MigrationRegistry::prefixes() const {
  std::set<std::string> set;
  for (const auto& m : owned_) set.insert(m->prefix());
  return {set.begin(), set.end()};
}

}  // namespace rocksmigrate
