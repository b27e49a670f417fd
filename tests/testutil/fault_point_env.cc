#include "tests/testutil/fault_point_env.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "src/fault_point.h"

namespace rocksmigrate {
namespace testing {

void ArmFaultPointFromEnvironment() {
  const char* spec = std::getenv("RM_FAULT_POINT");
  if (spec == nullptr || *spec == '\0') return;
  std::string name;
  long target = 1;
  const char* colon = std::strchr(spec, ':');
  if (colon == nullptr) {
    name = spec;
  } else {
    name.assign(spec, colon - spec);
    target = std::strtol(colon + 1, nullptr, 10);
    if (target < 1) target = 1;
  }
  auto hits = std::make_shared<std::atomic<long>>(0);
  TEST_SetFaultPointCallback(name, [hits, target] {
    if (hits->fetch_add(1) + 1 == target) {
      ::kill(::getpid(), SIGKILL);
      ::pause();
    }
  });
}

}  // namespace testing
}  // namespace rocksmigrate
