// Signal handling of the admin tool: SIGINT and SIGTERM during a migrate,
// rollback or abandon stop the run at its next batch boundary, resumably
// (exit 5).
#ifndef ROCKSMIGRATE_TOOLS_CLI_SIGNALS_H_
#define ROCKSMIGRATE_TOOLS_CLI_SIGNALS_H_

#include <atomic>
#include <memory>

namespace rocksmigrate::cli {

// SIGINT/SIGTERM ask the migrator to stop at the next batch boundary while
// one of these lives. SA_RESETHAND: a second signal terminates at once,
// which is safe (a crash is resumable too).
class ScopedStopSignals {
 public:
  ScopedStopSignals();
  ~ScopedStopSignals();
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;
  const std::atomic<bool>* flag() const;

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

}  // namespace rocksmigrate::cli

#endif  // ROCKSMIGRATE_TOOLS_CLI_SIGNALS_H_
