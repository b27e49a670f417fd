#include "tests/cli_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/escaping.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace rocksmigrate {
namespace testing {
namespace {

std::vector<char*> Argv(const std::string& program,
                        const std::vector<std::string>& args,
                        std::vector<std::string>* storage) {
  storage->clear();
  storage->push_back(program);
  storage->insert(storage->end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : *storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

pid_t Spawn(const std::string& program, const std::vector<std::string>& args,
            const std::string& cwd, const std::string& out_path,
            const std::string& err_path) {
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(program, args, &storage);
  // Opened here, not in the child, so that the files exist as soon as the
  // caller may look at them.
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK(in >= 0 && out >= 0 && err >= 0) << "cannot open " << out_path;
  pid_t pid = fork();
  CHECK_GE(pid, 0) << "fork failed";
  if (pid == 0) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CHECK(in) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFileOrDie(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  CHECK(out) << "cannot write " << path;
  out << contents;
}

RunResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args,
                     const std::string& cwd) {
  TempDir dir;
  const std::string out = dir.Sub("stdout");
  const std::string err = dir.Sub("stderr");
  RunResult result;
  result.exit_code = WaitExit(Spawn(program, args, cwd, out, err));
  result.out = ReadFileOrDie(out);
  result.err = ReadFileOrDie(err);
  return result;
}

RunResult RunTool(const std::vector<std::string>& args, const std::string& cwd) {
  return RunProgram(ROCKSMIGRATE_BIN, args, cwd);
}

Child::Child(const std::string& program, const std::vector<std::string>& args)
    : out_path_(dir_.Sub("stdout")), err_path_(dir_.Sub("stderr")) {
  pid_ = Spawn(program, args, "", out_path_, err_path_);
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitExit(pid_);
  }
}

std::string Child::ErrSoFar() const { return ReadFileOrDie(err_path_); }

void Child::Signal(int sig) { CHECK_EQ(kill(pid_, sig), 0); }

RunResult Child::Wait() {
  RunResult result;
  result.exit_code = WaitExit(pid_);
  pid_ = -1;
  result.out = ReadFileOrDie(out_path_);
  result.err = ReadFileOrDie(err_path_);
  return result;
}

DbHolder::DbHolder(const std::string& path) {
  int ready[2];
  CHECK_EQ(pipe(ready), 0);
  pid_ = fork();
  CHECK_GE(pid_, 0);
  if (pid_ == 0) {
    close(ready[0]);
    rocksdb::Options options;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
    char byte = s.ok() ? 'y' : 'n';
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    if (!s.ok()) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  CHECK_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  CHECK_EQ(byte, 'y') << "the holder could not open " << path;
}

DbHolder::~DbHolder() {
  kill(pid_, SIGKILL);
  WaitExit(pid_);
}

std::string Hex(std::string_view bytes) {
  return absl::StrCat("0x", absl::BytesToHexString(
                                absl::string_view(bytes.data(), bytes.size())));
}

void LdbPut(const std::string& db,
            const std::map<std::string, std::string>& records) {
  std::vector<std::string> args = {absl::StrCat("--db=", db),
                                   "--create_if_missing", "--hex", "batchput"};
  for (const auto& [k, v] : records) {
    args.push_back(Hex(k));
    args.push_back(Hex(v));
  }
  RunResult r = RunProgram(LDB_BIN, args);
  CHECK_EQ(r.exit_code, 0) << "ldb batchput failed: " << r.out << r.err;
}

std::string LdbScan(const std::string& db) {
  RunResult r =
      RunProgram(LDB_BIN, {absl::StrCat("--db=", db), "--hex", "scan"});
  CHECK_EQ(r.exit_code, 0) << "ldb scan failed: " << r.out << r.err;
  return r.out;
}

std::map<std::string, std::string> LdbRecords(const std::string& db) {
  std::map<std::string, std::string> records;
  for (absl::string_view line :
       absl::StrSplit(LdbScan(db), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, " : ");
    CHECK_EQ(kv.size(), 2u) << line;
    CHECK(kv[0].size() >= 2 && kv[1].size() >= 2) << line;
    records[absl::HexStringToBytes(kv[0].substr(2))] =
        absl::HexStringToBytes(kv[1].substr(2));
  }
  return records;
}

std::string TaskV2File() {
  return ReadFileOrDie(std::string(RM_SOURCE_DIR) +
                       "/migrations/0002_task_add_dependencies.json");
}

void ToolTest::SetUp() {
  db_ = dir_.Sub("db");
  migrations_ = dir_.Sub("migrations");
  ASSERT_TRUE(std::filesystem::create_directory(migrations_));
  WriteFileOrDie(migrations_ + "/0002_task_add_dependencies.json", TaskV2File());
}

std::vector<std::string> ToolTest::Args(std::vector<std::string> args) const {
  args.insert(args.begin(), {"--db", db_, "--migrations", migrations_});
  return args;
}

RunResult ToolTest::Tool(std::vector<std::string> args) const {
  return RunTool(Args(std::move(args)));
}

}  // namespace testing
}  // namespace rocksmigrate
