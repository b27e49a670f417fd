// Named fault points: places in the engine where a test can stop or crash
// the process, after RocksDB's sync points (which Debian's release build of
// RocksDB compiles out).
//
// Only test code arms them: TEST_SetFaultPointCallback() from a test, or, in
// the crash tests' child programs, tests/testutil/fault_point_env.h, which
// reads RM_FAULT_POINT="name:N" and kills the process at the N-th pass. The
// library itself never reads the environment, so no variable can make a
// server's process kill itself.
//
// The points:
//   step_start           after a step's cursor and manifest are committed
//   before_batch         before a batch is built into a write
//   before_commit        the batch (backups + new values + cursor) is built,
//                        not yet written
//   after_commit         right after a batch commit returns
//   before_step_finish   every batch committed, version not yet bumped
//   between_steps        a step finished, the next not started
//   rollback_batch       after each restore batch commits
//   before_rollback_finish  every record restored, not yet recorded
//   prune_between        between two backups deleted by PruneBackups
//   lease_wait           a migrator starts waiting for another's lease
#ifndef ROCKSMIGRATE_SRC_FAULT_POINT_H_
#define ROCKSMIGRATE_SRC_FAULT_POINT_H_

#include <functional>
#include <string>

namespace rocksmigrate {

// Called by the engine at each named point. One atomic load when nothing is
// armed.
void FaultPoint(const char* name);

// Test hook: runs `callback` at every pass through `name`; an empty callback
// disarms. Not thread-safe against concurrent FaultPoint() calls.
void TEST_SetFaultPointCallback(const std::string& name,
                                std::function<void()> callback);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_FAULT_POINT_H_
