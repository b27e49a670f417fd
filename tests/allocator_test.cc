// rocksmigrate/utilities/allocator.h: after FixMmapThreshold, a block of the threshold
// size is still mapped after a larger mapped block was freed (glibc would
// otherwise have raised its threshold and served it from the heap).
#include "rocksmigrate/utilities/allocator.h"

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RM_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RM_UNDER_ASAN 1
#endif
#endif

namespace rocksmigrate {
namespace {

#if defined(__GLIBC__) && !defined(RM_UNDER_ASAN)
// Mapped blocks malloc holds now.
size_t MappedBlocks() { return mallinfo2().hblks; }

// Allocates, touches and frees `bytes`; returns how many more blocks were
// mapped while it was held.
size_t MappedWhileHeld(size_t bytes) {
  const size_t before = MappedBlocks();
  void* volatile p = std::malloc(bytes);
  std::memset(p, 1, bytes);
  const size_t during = MappedBlocks();
  std::free(p);
  return during - before;
}

TEST(AllocatorTest, BlocksAtTheThresholdStayMappedAfterALargeFree) {
  ASSERT_TRUE(FixMmapThreshold().ok());
  // Freeing a 4 MiB mapped block is what makes glibc raise a dynamic
  // threshold above 1 MiB.
  EXPECT_EQ(MappedWhileHeld(4 << 20), 1u);
  EXPECT_EQ(MappedWhileHeld(1 << 20), 1u) << "a 1 MiB block came from the heap";
  EXPECT_EQ(MappedWhileHeld(kMmapThresholdBytes), 1u);
}

TEST(AllocatorTest, RefusesAThresholdGlibcDoesNotAccept) {
  EXPECT_EQ(FixMmapThreshold(size_t{1} << 40).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(FixMmapThreshold().ok());
}
#else
TEST(AllocatorTest, NotCheckableHere) {
  GTEST_SKIP() << "needs glibc's own malloc (not a sanitizer's)";
}
#endif

}  // namespace
}  // namespace rocksmigrate
