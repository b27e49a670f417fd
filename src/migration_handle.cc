// MigrateOnStartup() within a foreground budget, and the handle of the run
// that goes on in the background.
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rocksmigrate/startup.h"

namespace rocksmigrate {
namespace {

using Phase = MigrationSnapshot::Phase;

// The status a server logs: what it is about, with the engine's payloads
// (SubjectOf) kept.
absl::Status ForServer(const absl::Status& status, absl::string_view what) {
  absl::Status s(status.code(), absl::StrCat(what, status.message()));
  status.ForEachPayload([&s](absl::string_view url, const absl::Cord& payload) {
    s.SetPayload(url, payload);
  });
  return s;
}

constexpr char kCannot[] =
    "rocksmigrate: the database cannot be brought to the schema this server "
    "needs: ";

}  // namespace

std::string ToString(Phase phase) {
  switch (phase) {
    case Phase::kPending: return "pending";
    case Phase::kRunning: return "running";
    case Phase::kDone: return "done";
    case Phase::kStopped: return "stopped";
    case Phase::kFailed: return "failed";
  }
  return "unknown";
}

MigrationHandle::~MigrationHandle() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

MigrationSnapshot MigrationHandle::snapshot() const {
  MigrationSnapshot s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = snap_;
  }
  s.paused = pacer_->paused();
  if (s.phase == Phase::kRunning) s.pacing = pacer_->state();
  return s;
}

void MigrationHandle::OnProgress(const Progress& p) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap_.step_from = p.step_from;
    snap_.step_to = p.step_to;
    snap_.items_done = p.items_done;
    snap_.items_total_estimate = p.items_total_estimate;
    snap_.items_per_second = p.items_per_second;
    snap_.eta_seconds = p.eta_seconds;
    snap_.last_progress = absl::Now();
  }
  if (user_progress_) user_progress_(p);
}

absl::Status MigrationHandle::AfterRun(Migrator& migrator) {
  if (validate_after_) {
    absl::StatusOr<ValidationReport> v = migrator.Validate();
    if (!v.ok()) return v.status();
    if (!v->ok()) {
      const ValidationProblem& first = v->problems.front();
      return absl::FailedPreconditionError(absl::StrCat(
          "validation after migrating found ", v->problem_count,
          " problem(s); the first: ",
          first.key.empty() ? first.file : first.key, ": ", first.message,
          "; run `rocksmigrate validate` for the list (the migrated records "
          "stand)"));
    }
  }
  if (retention_) {
    absl::StatusOr<std::vector<std::string>> pruned =
        migrator.PruneBackups(*retention_);
    if (!pruned.ok()) {
      LOG(WARNING) << "rocksmigrate: backup retention after the run failed "
                      "(the run itself succeeded): "
                   << pruned.status();
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      snap_.pruned_backups = std::move(*pruned);
    }
  }
  return absl::OkStatus();
}

void MigrationHandle::Run(std::unique_ptr<Migrator> migrator) {
  absl::StatusOr<RunReport> report = migrator->Migrate();
  if (report.ok()) {
    absl::Status after = AfterRun(*migrator);
    if (!after.ok()) report = after;
  }
  migrator.reset();  // Releases the lease before anyone is told.
  std::lock_guard<std::mutex> lock(mu_);
  if (report.ok()) {
    snap_.phase = Phase::kDone;
    snap_.eta_seconds = 0;
  } else {
    snap_.phase = absl::IsCancelled(report.status()) ? Phase::kStopped
                                                     : Phase::kFailed;
    snap_.status = report.status();
  }
  ended_ = true;
  cv_.notify_all();
}

absl::Status MigrationHandle::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return ended_; });
  return snap_.status;
}

bool MigrationHandle::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (timeout == absl::InfiniteDuration()) {
    cv_.wait(lock, [this] { return ended_; });
    return true;
  }
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return ended_; });
}

absl::Status MigrationHandle::Stop() {
  stop_.store(true);
  return Wait();
}

absl::StatusOr<std::unique_ptr<MigrationHandle>> MigrateOnStartup(
    rocksdb::DB* db, const MigrationRegistry& registry,
    MigratorOptions options, StartupOptions startup) {
  if (startup.foreground_budget < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "StartupOptions::foreground_budget must not be negative");
  }
  const bool background =
      startup.when_budget_runs_out ==
          StartupOptions::WhenBudgetRunsOut::kContinueInBackground &&
      startup.foreground_budget != absl::InfiniteDuration();
  if (background) options.online = true;

  std::unique_ptr<MigrationHandle> h(new MigrationHandle());
  h->pacer_ = options.pacer != nullptr
                  ? options.pacer
                  : std::make_shared<Pacer>(startup.pacing);
  options.pacer = h->pacer_;
  // The server does not serve before this call returns: no pacing until
  // then (with a budget of zero, none at all).
  if (startup.foreground_budget > absl::ZeroDuration()) {
    h->pacer_->SetBypass(true);
  }
  h->user_progress_ = std::move(options.on_progress);
  h->validate_after_ = startup.validate_after;
  h->retention_ = startup.backup_retention;
  MigrationHandle* raw = h.get();
  options.on_progress = [raw](const Progress& p) { raw->OnProgress(p); };
  options.stop_requested = &h->stop_;

  absl::StatusOr<std::unique_ptr<Migrator>> migrator =
      Migrator::Create(db, &registry, options);
  if (!migrator.ok()) return ForServer(migrator.status(), kCannot);
  // Every refusal is found before the server is let in: the run's own
  // preflight would find them too, but perhaps after the budget.
  absl::StatusOr<DatabaseState> state = (*migrator)->Inspect();
  if (!state.ok()) return ForServer(state.status(), kCannot);
  if (!state->bookkeeping_status.ok()) {
    return ForServer(state->bookkeeping_status, kCannot);
  }
  if (state->newer_than_supported) {
    return absl::FailedPreconditionError(absl::StrCat(
        kCannot, "its schema version ", state->current_version,
        " is newer than this binary's newest, ", state->target_version,
        "; nothing was written"));
  }
  if (!state->plan_status.ok()) return ForServer(state->plan_status, kCannot);
  if (!startup.auto_migrate && !state->up_to_date()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rocksmigrate: automatic migration is off (StartupOptions::"
        "auto_migrate, ROCKSMIGRATE_AUTO_MIGRATE=off) and the database is "
        "not up to date: ",
        state->in_flight
            ? "a run is in flight"
            : absl::StrCat("v", state->current_version, " -> v",
                           state->target_version, ", ", state->pending.size(),
                           " step(s) pending"),
        "; run `rocksmigrate migrate` first; nothing was written"));
  }

  h->snap_.phase = Phase::kRunning;
  h->thread_ = std::thread(
      [raw, m = std::move(*migrator)]() mutable { raw->Run(std::move(m)); });
  const bool ended = h->WaitFor(startup.foreground_budget);
  if (!ended && !background) {
    h->stop_.store(true);
    absl::Status s = h->Wait();
    if (s.ok()) return h;  // It finished as it was asked to stop.
    if (!absl::IsCancelled(s)) return ForServer(s, kCannot);
    MigrationSnapshot snap = h->snapshot();
    return absl::DeadlineExceededError(absl::StrCat(
        "rocksmigrate: the migration did not finish within the foreground "
        "budget of ", absl::FormatDuration(startup.foreground_budget),
        " (step v", snap.step_from, " -> v", snap.step_to, " at ",
        snap.items_done, " of about ", snap.items_total_estimate,
        " records); it stopped resumably, nothing is lost, and the next "
        "start resumes it from its cursor"));
  }
  if (ended) {
    absl::Status s = h->Wait();
    if (!s.ok()) return ForServer(s, kCannot);
    return h;
  }
  h->pacer_->SetBypass(false);  // Serving from now on: pace the rest.
  return h;
}

}  // namespace rocksmigrate
