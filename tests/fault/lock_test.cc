// Scenario 6: a second migrator — another process, or another Migrator in
// this process — and the admin tool while a server process holds the
// database. Each fails fast with a clear message and writes nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "rocksmigrate/utilities/db_handle.h"
#include "rocksmigrate/migrator.h"
#include "src/fault_point.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;

// A server process: the fault child holding the database open until a
// file appears.
class Holder {
 public:
  Holder(const std::string& db, const std::string& release_file)
      : release_(release_file) {
    int fd[2];
    EXPECT_EQ(::pipe(fd), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fd[1], 1);
      ::close(fd[0]);
      std::string path = RM_FAULT_CHILD_PATH;
      ::execl(path.c_str(), path.c_str(), "--db", db.c_str(), "--op", "hold",
              "--until", release_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fd[1]);
    out_ = fd[0];
    std::string got;
    char buf[64];
    ssize_t n;
    while (got.find("held") == std::string::npos &&
           (n = ::read(out_, buf, sizeof(buf))) > 0) {
      got.append(buf, n);
    }
    held_ = got.find("held") != std::string::npos;
  }
  ~Holder() {
    std::ofstream(release_).put('x');
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(out_);  // Only now: a closed pipe would SIGPIPE the server.
  }
  bool held() const { return held_; }
  // "" while the server runs, else how it ended.
  std::string Ended() {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return "";
    if (r < 0) return "not a child";
    return WIFSIGNALED(status)
               ? "killed by signal " + std::to_string(WTERMSIG(status))
               : "exited with " + std::to_string(WEXITSTATUS(status));
  }

 private:
  std::string release_;
  pid_t pid_ = -1;
  int out_ = -1;
  bool held_ = false;
};

TEST(LockTest, SecondProcessFailsFastAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Dump v1 = MakeDataset(TestSeed(600));
  CreateDb(path, v1);
  const Dump before = ReadDb(path);
  {
    Holder server(path, dir.Sub("release"));
    ASSERT_TRUE(server.held());
    // The library: a read-write open is refused with Unavailable, at once.
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(server.Ended(), "");
    auto handle = DbHandle::Open(path, OpenMode::kReadWrite);
    ASSERT_EQ(server.Ended(), "");
    EXPECT_THAT(handle, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_TRUE(absl::StrContains(handle.status().message(), "lock") ||
                absl::StrContains(handle.status().message(), "held"))
        << handle.status();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    // A second migrator process.
    t0 = std::chrono::steady_clock::now();
    ChildResult r = RunChild({"--db", path, "--op", "migrate"});
    EXPECT_EQ(r.exit_code, 3) << r.output << "\nserver: " << server.Ended();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    // A read-only open works beside the server.
    auto ro = DbHandle::Open(path, OpenMode::kReadOnly);
    EXPECT_THAT(ro, IsOk());
  }
  EXPECT_EQ(ReadDb(path), before) << "a refused migrator wrote something";
}

#ifdef RM_TOOL_PATH
std::string RunTool(const std::string& args, int* code) {
  std::string cmd = std::string(RM_TOOL_PATH) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(LockTest, AdminToolRefusesWritesBesideServerAndReadsStillWork) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Dump v1;
  v1["task:1"] = R"({"schema_version":1,"title":"a"})";
  v1["task:2"] = R"({"schema_version":1,"title":"b"})";
  CreateDb(path, v1);
  const std::string migrations = dir.Sub("migrations");
  ASSERT_EQ(::mkdir(migrations.c_str(), 0700), 0);
  std::ofstream(migrations + "/0002_task_add_dependencies.json")
      << R"({"from": 1, "to": 2, "name": "task_add_dependencies",
             "prefix": "task:",
             "patch": [{"op": "add", "path": "/depends_on", "value": []}]})";
  const Dump before = ReadDb(path);
  {
    Holder server(path, dir.Sub("release"));
    ASSERT_TRUE(server.held());
    const std::string base = "--db " + path + " --migrations " + migrations;
    for (const char* cmd : {"migrate", "rollback --to 1", "backups prune --keep 0"}) {
      int code = 0;
      auto t0 = std::chrono::steady_clock::now();
      std::string out = RunTool(base + " " + cmd, &code);
      EXPECT_EQ(code, 3) << cmd << ": " << out;
      EXPECT_TRUE(absl::StrContains(out, "error:")) << cmd << ": " << out;
      EXPECT_TRUE(absl::StrContains(out, "lock")) << cmd << ": " << out;
      EXPECT_LT(std::chrono::steady_clock::now() - t0,
                std::chrono::seconds(10));
    }
    int code = 0;
    std::string out = RunTool(base + " status", &code);
    EXPECT_TRUE(code == 0 || code == 4) << out;
  }
  EXPECT_EQ(ReadDb(path), before) << "the refused tool wrote something";
}
#endif  // RM_TOOL_PATH

TEST(LockTest, SecondMigratorInProcessIsRefusedWhileFirstRunsAndWritesNothing) {
  TempDir dir;
  Dump v1 = MakeDataset(TestSeed(601));
  Model model(v1);
  CreateDb(dir.Sub("db"), v1);
  auto db = FaultDb::Open(dir.Sub("db"));
  ASSERT_THAT(db, IsOk());
  auto registry = MakeRegistry();
  MigratorOptions mo;
  mo.batch_items = 10;
  auto first = Migrator::Create((*db)->db(), registry.get(), mo);
  ASSERT_THAT(first, IsOk());
  int calls = 0;
  TEST_SetFaultPointCallback("before_batch", [&] {
    if (++calls != 3) return;
    const Dump during = (*db)->DumpAll();
    auto second = Migrator::Create((*db)->db(), registry.get(), mo);
    ASSERT_THAT(second, IsOk());
    EXPECT_THAT((*second)->Migrate(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT((*second)->Rollback(1),
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT((*second)->PruneBackups(0),
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ((*db)->DumpAll(), during) << "the refused migrator wrote";
  });
  auto r = (*first)->Migrate();
  TEST_SetFaultPointCallback("before_batch", nullptr);
  ASSERT_THAT(r, IsOk());
  EXPECT_GE(calls, 3);
  Dump all = (*db)->DumpAll();
  EXPECT_EQ(StoredVersion(all), kNewest);
  EXPECT_EQ(CheckInvariant(all, model), "");
}

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
