// A property a fuzz target checks: a violation is a bug, reported and made
// a crash so that libFuzzer keeps the input (and the replay test fails).
#ifndef ROCKSMIGRATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define ROCKSMIGRATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define RM_FUZZ_CHECK(cond)                                              \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, \
                   __LINE__, #cond);                                     \
      std::abort();                                                      \
    }                                                                    \
  } while (0)

#endif  // ROCKSMIGRATE_TESTS_FUZZ_FUZZ_CHECK_H_
