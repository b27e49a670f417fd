#include "tools/cli/signals.h"

#include <signal.h>

namespace rocksmigrate::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler needs a lock-free flag");

extern "C" void HandleStopSignal(int) {
  g_stop_requested.store(true, std::memory_order_relaxed);
}

}  // namespace

struct ScopedStopSignals::Saved {
  struct sigaction old_int = {};
  struct sigaction old_term = {};
};

ScopedStopSignals::ScopedStopSignals() : saved_(std::make_unique<Saved>()) {
  g_stop_requested.store(false);
  struct sigaction action = {};
  action.sa_handler = HandleStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &saved_->old_int);
  sigaction(SIGTERM, &action, &saved_->old_term);
}

ScopedStopSignals::~ScopedStopSignals() {
  sigaction(SIGINT, &saved_->old_int, nullptr);
  sigaction(SIGTERM, &saved_->old_term, nullptr);
}

const std::atomic<bool>* ScopedStopSignals::flag() const {
  return &g_stop_requested;
}

}  // namespace rocksmigrate::cli
