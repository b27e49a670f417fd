// Helpers for the admin tool's tests: they run the REAL `rocksmigrate`
// binary as a subprocess and build and read databases with RocksDB's own
// `ldb`, so that the checks do not depend on the code under test.
#ifndef ROCKSMIGRATE_TESTS_CLI_TEST_UTIL_H_
#define ROCKSMIGRATE_TESTS_CLI_TEST_UTIL_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace testing {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed by a signal.
  std::string out;
  std::string err;
};

// Runs `program` with `args` in `cwd` (if not empty), stdin from /dev/null,
// and waits for it.
RunResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args,
                     const std::string& cwd = "");

// Runs the rocksmigrate binary.
RunResult RunTool(const std::vector<std::string>& args,
                  const std::string& cwd = "");

// A process running in the background; killed (SIGKILL) and reaped on
// destruction if still running.
class Child {
 public:
  Child(const std::string& program, const std::vector<std::string>& args);
  ~Child();
  pid_t pid() const { return pid_; }
  // What it has written to stderr so far.
  std::string ErrSoFar() const;
  void Signal(int sig);
  RunResult Wait();

 private:
  TempDir dir_;  // First: the paths below live in it.
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
};

// Holds the database at `path` open as a primary in a forked child process
// (as a running server would) until destroyed.
class DbHolder {
 public:
  explicit DbHolder(const std::string& path);
  ~DbHolder();

 private:
  pid_t pid_ = -1;
};

std::string Hex(std::string_view bytes);

// Writes `records` into the database at `db` with `ldb batchput`, creating
// it if missing.
void LdbPut(const std::string& db, const std::map<std::string, std::string>& records);
// `ldb scan --hex` of the default column family: the exact bytes of every
// key and value, reserved keys included.
std::string LdbScan(const std::string& db);
// The same, decoded.
std::map<std::string, std::string> LdbRecords(const std::string& db);

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);

// The Task v1 -> v2 file shipped in migrations/.
std::string TaskV2File();

// A fixture for tests of the tool: a fresh database path, a migrations
// directory holding the shipped Task v1 -> v2 file, and Tool() to run the
// tool on them.
class ToolTest : public ::testing::Test {
 public:
  void SetUp() override;
  // `args` after --db and --migrations.
  std::vector<std::string> Args(std::vector<std::string> args) const;
  RunResult Tool(std::vector<std::string> args) const;

  TempDir dir_;
  std::string db_;
  std::string migrations_;
};

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_CLI_TEST_UTIL_H_
