// One verdict on a database for orchestrators' readiness probes and a
// server's health endpoint, computed from what Migrator::Inspect() read (the
// bookkeeping keys only, never the records).
#ifndef ROCKSMIGRATE_HEALTH_H_
#define ROCKSMIGRATE_HEALTH_H_

#include <string>

#include "rocksmigrate/migrator.h"

namespace rocksmigrate {

// In the order AssessHealth() decides them: the first that holds wins.
enum class Health {
  // The stored schema is newer than this binary knows, the pending steps
  // cannot be planned (a gap in the chain), or the bookkeeping cannot be
  // trusted (a damaged key): nothing will migrate until a person acts.
  kRefused,
  // A run is in flight: a migration is running now, or a crash left one
  // (the next migrate or startup call finishes it).
  kRunning,
  // The newest history entry is a failed step (its records were restored):
  // the database stayed at a completed version, below the target.
  kFailed,
  // Steps are pending (or an empty database is not stamped yet).
  kPending,
  // At the newest version, nothing in flight, bookkeeping sound.
  kReady,
};

// "ready", "pending", "running", "failed", "refused".
std::string ToString(Health health);

struct HealthReport {
  Health health = Health::kReady;
  // One line for people and probe logs, e.g. "pending: v1 -> v3, 2 steps",
  // "failed: v1 -> v2 failed at 2026-12-02T10:00:00Z: <error>".
  std::string summary;
  int current_version = 0;
  int target_version = 0;
  size_t pending_steps = 0;
};

HealthReport AssessHealth(const DatabaseState& state);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_HEALTH_H_
