#include "rocksmigrate/utilities/allocator.h"

#include <climits>

#include "absl/strings/str_cat.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rocksmigrate {

absl::Status FixMmapThreshold(size_t bytes) {
#if defined(__GLIBC__)
  if (bytes > static_cast<size_t>(INT_MAX) ||
      mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "glibc refused an mmap threshold of ", bytes, " bytes"));
  }
  return absl::OkStatus();
#else
  (void)bytes;
  return absl::UnimplementedError(
      "the mmap threshold can only be fixed with glibc's malloc");
#endif
}

}  // namespace rocksmigrate
