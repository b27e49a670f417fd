// The admin tool with fault points armed from RM_FAULT_POINT (as the crash
// tests' children are), so that a test can kill a real `rocksmigrate
// migrate` at a named point. Test-only: the shipped tool ignores the
// variable.
#include <iostream>

#include "tests/testutil/fault_point_env.h"
#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  rocksmigrate::testing::ArmFaultPointFromEnvironment();
  return rocksmigrate::cli::RunCli(argc, argv, std::cout, std::cerr);
}
