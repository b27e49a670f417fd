// RunChild(): forks and execs the fault child (fault_model.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "glog/logging.h"
#include "tests/fault/fault_model.h"

#ifndef RM_FAULT_CHILD_PATH
#error "RM_FAULT_CHILD_PATH must name the fault_child executable"
#endif

namespace rocksmigrate {
namespace fault {

ChildResult RunChild(const std::vector<std::string>& args,
                     const std::string& fault_point, int64_t kill_after_us) {
  int pipefd[2];
  CHECK_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    if (fault_point.empty()) {
      ::unsetenv("RM_FAULT_POINT");
    } else {
      ::setenv("RM_FAULT_POINT", fault_point.c_str(), 1);
    }
    std::vector<char*> argv;
    std::string path = RM_FAULT_CHILD_PATH;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::thread killer;
  std::atomic<bool> done{false};
  if (kill_after_us > 0) {
    killer = std::thread([pid, kill_after_us, &done] {
      auto until = std::chrono::steady_clock::now() +
                   std::chrono::microseconds(kill_after_us);
      while (!done.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      if (!done.load()) ::kill(pid, SIGKILL);
    });
  }
  ChildResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) r.output.append(buf, n);
  ::close(pipefd[0]);
  // Wait for the exit without reaping: while the child is a zombie its pid
  // cannot be reused, so a late SIGKILL from the killer thread cannot hit
  // another process (a server holder of a parallel test, say).
  siginfo_t info;
  CHECK_EQ(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
  done.store(true);
  if (killer.joinable()) killer.join();
  int status = 0;
  CHECK_EQ(::waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status)) {
    r.killed = WTERMSIG(status) == SIGKILL;
    CHECK(r.killed) << "child died of signal " << WTERMSIG(status) << ":\n"
                    << r.output;
  } else {
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

}  // namespace fault
}  // namespace rocksmigrate
