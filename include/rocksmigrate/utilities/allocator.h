// The process-wide allocator setting the rocksmigrate tool makes, for a
// server that wants the same bounded memory while it migrates.
//
// glibc raises its mmap threshold each time a large mapped block is freed;
// after that, RocksDB's 1 MiB memtable blocks and compaction buffers come
// from the heap, and once freed they stay in the process as fragments
// (30-80 MiB in a long migration in rocksmigrate-bench). A fixed threshold
// keeps every block of at least that size mapped, and returns it to the
// system when it is freed.
//
// This is a setting of the whole process, so the library never makes it on
// its own: call it once at start-up, before the database is opened, or use
// another allocator (jemalloc) instead.
#ifndef ROCKSMIGRATE_UTILITIES_ALLOCATOR_H_
#define ROCKSMIGRATE_UTILITIES_ALLOCATOR_H_

#include <cstddef>

#include "absl/status/status.h"

namespace rocksmigrate {

// The threshold the tool uses: blocks of 256 KiB and more are mapped.
inline constexpr size_t kMmapThresholdBytes = 256 << 10;

// Fixes glibc's mmap threshold at `bytes` (mallopt M_MMAP_THRESHOLD).
// Unimplemented when the C library is not glibc; InvalidArgument when glibc
// refuses the value (above its 32 MiB maximum).
absl::Status FixMmapThreshold(size_t bytes = kMmapThresholdBytes);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_UTILITIES_ALLOCATOR_H_
