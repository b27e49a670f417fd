// The fault suite's child process: opens a database with the library's
// DbHandle, runs one operation with the suite's migrations, and reports.
// Crash tests kill it with SIGKILL (RM_FAULT_POINT="name:N" or the parent).
//
//   fault_child --db PATH --op migrate  [--to N] [--batch N] [--threads N]
//   fault_child --db PATH --op rollback --to N [--batch N]
//   fault_child --db PATH --op prune    --keep N
//   fault_child --db PATH --op hold     --until FILE   (holds the database
//               open until FILE exists, at most 60 s; prints "held")
//
// Prints "ok" or "error: <status>"; exits 0 on success, 3 when the database
// is held by another process (Unavailable), 2 for InvalidArgument, else 1.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "rocksmigrate/utilities/db_handle.h"
#include "rocksmigrate/migrator.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/fault_point_env.h"

namespace {

int Report(const absl::Status& s) {
  if (s.ok()) {
    std::printf("ok\n");
    return 0;
  }
  std::printf("error: %s\n", s.ToString().c_str());
  if (absl::IsUnavailable(s)) return 3;
  if (absl::IsInvalidArgument(s)) return 2;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  rocksmigrate::testing::ArmFaultPointFromEnvironment();
  std::string db_path, op, until;
  int to = -1, batch = 7, threads = 2, keep = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--db") db_path = value;
    else if (flag == "--op") op = value;
    else if (flag == "--to") to = std::atoi(value.c_str());
    else if (flag == "--batch") batch = std::atoi(value.c_str());
    else if (flag == "--threads") threads = std::atoi(value.c_str());
    else if (flag == "--keep") keep = std::atoi(value.c_str());
    else if (flag == "--until") until = value;
  }
  setvbuf(stdout, nullptr, _IONBF, 0);
  auto handle = rocksmigrate::DbHandle::Open(db_path,
                                             rocksmigrate::OpenMode::kReadWrite);
  if (!handle.ok()) return Report(handle.status());
  if (op == "hold") {
    std::printf("held\n");
    for (int i = 0; i < 6000 && ::access(until.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }
  auto registry = rocksmigrate::fault::MakeRegistry();
  rocksmigrate::MigratorOptions options;
  options.batch_items = batch;
  options.threads = threads;
  auto migrator =
      rocksmigrate::Migrator::Create((*handle)->db(), registry.get(), options);
  if (!migrator.ok()) return Report(migrator.status());
  if (op == "migrate") {
    auto r = (*migrator)->Migrate(to < 0 ? std::nullopt : std::optional<int>(to));
    return Report(r.status());
  }
  if (op == "rollback") return Report((*migrator)->Rollback(to).status());
  if (op == "prune") return Report((*migrator)->PruneBackups(keep).status());
  return Report(absl::InvalidArgumentError("unknown --op " + op));
}
