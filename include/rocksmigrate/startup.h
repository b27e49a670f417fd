// The one call a server makes on startup.
#ifndef ROCKSMIGRATE_STARTUP_H_
#define ROCKSMIGRATE_STARTUP_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksmigrate/pacing.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"

namespace rocksmigrate {

// Brings `db` (the server's open database, a rocksdb::DB or TransactionDB)
// to the newest version in `registry`: finishes a run a crash left, applies
// the pending steps, stamps an empty database. Opens and closes nothing.
//
// Returns OK when the server may start. Otherwise a Status that says why it
// must not: FailedPrecondition (the stored schema is newer than this binary
// supports), Aborted (an item error; the failed step was restored and the
// message names the key), InvalidArgument (the registered migrations have a
// gap), Unavailable (another migrator holds the database), or an I/O error.
//
// Example:
//   MigrationRegistry registry;
//   RM_RETURN_IF_ERROR(registry.Register(std::make_unique<TaskV1ToV2>()));
//   absl::Status s = MigrateOnStartup(db, registry);
//   if (!s.ok()) { LOG(ERROR) << s; return 1; }
absl::Status MigrateOnStartup(rocksdb::DB* db,
                              const MigrationRegistry& registry,
                              MigratorOptions options = {});

// --- Zero-downtime startup (README "Zero-downtime migration") ---

struct StartupOptions {
  // How long MigrateOnStartup() may keep the server from serving. Infinite
  // (the default) blocks until every step is done, as the call above does.
  absl::Duration foreground_budget = absl::InfiniteDuration();
  // What happens when the budget runs out before the last step is done.
  enum class WhenBudgetRunsOut {
    // Stop the run resumably (the next start resumes it from its cursor)
    // and refuse to start: DeadlineExceeded.
    kRefuse,
    // Go on in the background, online, and return the handle at once. The
    // server then reads through an UpgradingReader and writes records at
    // the new version. REQUIRES a rocksdb::TransactionDB.
    kContinueInBackground,
  };
  WhenBudgetRunsOut when_budget_runs_out = WhenBudgetRunsOut::kRefuse;
  // The pacing of the background part (the foreground part is unpaced: the
  // server is not serving yet). Ignored when MigratorOptions::pacer is set.
  PacingOptions pacing;
  // False: migrate nothing; refuse (FailedPrecondition, nothing written)
  // while any step is pending or a run is in flight, so that an operator
  // runs `rocksmigrate migrate` first. An up-to-date database starts.
  // Default: true.
  bool auto_migrate = true;
  // After the last step, check every record under a migrated prefix
  // (Migrator::Validate()); problems fail the call (or the background run)
  // with FailedPrecondition naming the first key. Reads every record.
  // Default: false.
  bool validate_after = false;
  // After a successful run (and validation), delete the backups this
  // policy lets go. A failure to prune is logged, never fatal; the deleted
  // ids are in MigrationSnapshot::pruned_backups. Default: none.
  std::optional<RetentionPolicy> backup_retention;
};

// StartupOptions from the environment, for containers (README
// "Configuration from the environment"). Unset or empty variables keep the
// defaults; a bad value is InvalidArgument naming the variable.
//   ROCKSMIGRATE_AUTO_MIGRATE          on|off (also 1/0, true/false, yes/no)
//   ROCKSMIGRATE_FOREGROUND_BUDGET     a duration: 0, 30s, 5m, inf
//   ROCKSMIGRATE_WHEN_BUDGET_RUNS_OUT  refuse|background
//   ROCKSMIGRATE_VALIDATE              on|off
//   ROCKSMIGRATE_BACKUP_KEEP           N: retention keeps the newest N
//   ROCKSMIGRATE_BACKUP_MAX_AGE        a duration (30d, 2w, 12h): retention
//                                      deletes older backups
//   ROCKSMIGRATE_PAUSE_FILE            PacingOptions::pause_file
//   ROCKSMIGRATE_RECORDS_PER_SECOND    PacingOptions::records_per_second
//                                      (0: unlimited)
// `getenv` reads a variable (nullptr when unset); std::getenv by default.
absl::StatusOr<StartupOptions> StartupOptionsFromEnvironment(
    const std::function<const char*(const char*)>& getenv = nullptr);

// What a MigrationHandle reports. A server serves its readiness and health
// endpoints from it.
struct MigrationSnapshot {
  enum class Phase {
    kPending,  // Not started yet.
    kRunning,  // Migrating (in the background after the budget).
    kDone,     // Every step is done: status is OK.
    kStopped,  // Stop() was called: resumable at the next start.
    kFailed,   // status says why (an item error: the step was restored).
  };
  Phase phase = Phase::kPending;
  // The step in progress (0, 0 before the first batch).
  int step_from = 0;
  int step_to = 0;
  uint64_t items_done = 0;            // In the current step.
  uint64_t items_total_estimate = 0;  // 0 when unknown.
  double items_per_second = 0;
  double eta_seconds = -1;            // Negative when unknown.
  // When the last batch committed (InfinitePast before the first).
  absl::Time last_progress = absl::InfinitePast();
  // What holds the run back (Pacer::state()): empty when nothing does.
  std::string pacing;
  bool paused = false;
  // The final status once done, stopped or failed; OK before.
  absl::Status status;
  // Backups StartupOptions::backup_retention deleted after the run.
  std::vector<std::string> pruned_backups;
};
std::string ToString(MigrationSnapshot::Phase phase);

// A migration running in the background, returned by MigrateOnStartup()
// with StartupOptions. The destructor stops it resumably and waits.
//
// Thread-safety: every method is safe to call from any thread.
class MigrationHandle {
 public:
  ~MigrationHandle();
  MigrationHandle(const MigrationHandle&) = delete;
  MigrationHandle& operator=(const MigrationHandle&) = delete;

  MigrationSnapshot snapshot() const;
  bool done() const { return snapshot().phase == MigrationSnapshot::Phase::kDone; }
  // Pauses at the next batch boundary (holding no lock) until Resume().
  void Pause() { pacer_->Pause(); }
  void Resume() { pacer_->Resume(); }
  // The pacing, to change its rates while the run goes on.
  Pacer& pacer() { return *pacer_; }
  // Stops the run at its next batch boundary, resumably, and waits for it.
  // Returns the final status (Cancelled when it stopped, OK when it had
  // finished first).
  absl::Status Stop();
  // Waits for the run to end; returns its final status.
  absl::Status Wait();
  // Waits at most `timeout`; true when the run has ended.
  bool WaitFor(absl::Duration timeout);

 private:
  friend absl::StatusOr<std::unique_ptr<MigrationHandle>> MigrateOnStartup(
      rocksdb::DB*, const MigrationRegistry&, MigratorOptions, StartupOptions);
  MigrationHandle() = default;
  void Run(std::unique_ptr<Migrator> migrator);
  // What follows a successful run: validation and retention.
  absl::Status AfterRun(Migrator& migrator);
  void OnProgress(const Progress& p);

  std::shared_ptr<Pacer> pacer_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  MigrationSnapshot snap_;  // Guarded by mu_.
  bool ended_ = false;      // Guarded by mu_.
  std::function<void(const Progress&)> user_progress_;
  bool validate_after_ = false;
  std::optional<RetentionPolicy> retention_;
  std::thread thread_;
};

// Like MigrateOnStartup() above, within a foreground time budget. Returns:
//   - a handle in phase kDone when every step finished within the budget;
//   - when the budget ran out: with kRefuse, DeadlineExceeded (the run
//     stopped resumably; nothing is lost and the next start resumes it);
//     with kContinueInBackground, a handle in phase kRunning: the server
//     may serve now, reading through an UpgradingReader;
//   - the refusals and failures of MigrateOnStartup() above, when they
//     happen within the budget (a refusal is always found before any
//     record is written: a newer schema, bookkeeping that cannot be
//     trusted, a gap in the registered steps).
// `options.online` is set for kContinueInBackground with a finite budget.
absl::StatusOr<std::unique_ptr<MigrationHandle>> MigrateOnStartup(
    rocksdb::DB* db, const MigrationRegistry& registry,
    MigratorOptions options, StartupOptions startup);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_STARTUP_H_
