// The `rocksmigrate` admin tool (SPEC §5); everything lives in tools/cli.
#include <iostream>

#include "glog/logging.h"
#include "rocksmigrate/utilities/allocator.h"
#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  // Freed memtable blocks go back to the system instead of fragmenting the
  // heap (rocksmigrate/utilities/allocator.h). Without glibc the tool runs as is.
  rocksmigrate::FixMmapThreshold().IgnoreError();
  google::InitGoogleLogging(argv[0]);
  // The library logs through glog; only warnings and worse reach the
  // terminal, next to the tool's own progress lines.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_WARNING;
  return rocksmigrate::cli::RunCli(argc, argv, std::cout, std::cerr);
}
