// Arms a fault point from the environment, for the child programs that
// crash tests kill: RM_FAULT_POINT="name:N" (N defaults to 1) makes the N-th
// pass through the point `name` kill the process with SIGKILL. Only test
// programs call this; the library never reads the variable.
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_POINT_ENV_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_POINT_ENV_H_

namespace rocksmigrate {
namespace testing {

// Reads RM_FAULT_POINT once and arms the point it names; does nothing when
// the variable is unset or empty.
void ArmFaultPointFromEnvironment();

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_POINT_ENV_H_
