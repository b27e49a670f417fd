// Named fault points: places in the engine where a test can crash the
// process, after RocksDB's kill points (which Debian's release build of
// RocksDB compiles out).
//
// Arming, for crash tests that run the engine in a child process: the
// environment variable RM_FAULT_POINT="name:N" makes the N-th pass through
// the point `name` (N defaults to 1) kill the process with SIGKILL.
// In-process tests may set a callback with TEST_SetFaultPointCallback().
//
// The points:
//   step_start           after a step's cursor and manifest are committed
//   before_batch         before a batch is built into a write
//   before_commit        the batch (backups + new values + cursor) is built,
//                        not yet written
//   after_commit         right after a batch commit returns
//   before_step_finish   every batch committed, version not yet bumped
//   between_steps        a step finished, the next not started
//   rollback_batch       after each restore batch of a rollback commits
//   before_rollback_finish  every record restored, not yet recorded
//   prune_between        between two backups deleted by PruneBackups
#ifndef ROCKSMIGRATE_SRC_FAULT_POINT_H_
#define ROCKSMIGRATE_SRC_FAULT_POINT_H_

#include <functional>
#include <string>

namespace rocksmigrate {

// Called by the engine at each named point. Cheap when nothing is armed.
void FaultPoint(const char* name);

// Test hook: runs `callback` at every pass through `name`; an empty callback
// disarms. Not thread-safe against concurrent FaultPoint() calls.
void TEST_SetFaultPointCallback(const std::string& name,
                                std::function<void()> callback);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_FAULT_POINT_H_
