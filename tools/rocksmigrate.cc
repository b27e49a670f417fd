// The `rocksmigrate` admin tool (SPEC §5); everything lives in tools/cli.
#include <malloc.h>

#include <iostream>

#include "glog/logging.h"
#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  // glibc raises its mmap threshold each time a large block is freed, after
  // which RocksDB's 1 MiB memtable blocks and compaction buffers come from
  // the heap and, once freed, stay in the process as fragments (20-80 MiB
  // in a long run). A fixed threshold keeps them mapped and returns them to
  // the system when freed. (A server embedding the library can do the same,
  // or link jemalloc; see the README.)
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  google::InitGoogleLogging(argv[0]);
  // The library logs through glog; only warnings and worse reach the
  // terminal, next to the tool's own progress lines.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_WARNING;
  return rocksmigrate::cli::RunCli(argc, argv, std::cout, std::cerr);
}
