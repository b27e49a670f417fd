#include "src/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace rocksmigrate {
namespace {

struct EnvArming {
  std::string name;
  long target = 0;
  std::atomic<long> hits{0};
};

// Parsed once; the environment does not change under a running engine.
const EnvArming* GetEnvArming() {
  static EnvArming* arming = [] {
    const char* spec = std::getenv("RM_FAULT_POINT");
    if (spec == nullptr || *spec == '\0') return static_cast<EnvArming*>(nullptr);
    auto* a = new EnvArming;
    const char* colon = std::strchr(spec, ':');
    if (colon == nullptr) {
      a->name = spec;
      a->target = 1;
    } else {
      a->name.assign(spec, colon - spec);
      a->target = std::strtol(colon + 1, nullptr, 10);
      if (a->target < 1) a->target = 1;
    }
    return a;
  }();
  return arming;
}

std::atomic<bool> g_have_callbacks{false};
std::mutex g_mu;
std::map<std::string, std::function<void()>>& Callbacks() {
  static auto* m = new std::map<std::string, std::function<void()>>;
  return *m;
}

}  // namespace

void FaultPoint(const char* name) {
  const EnvArming* arming = GetEnvArming();
  if (arming != nullptr && arming->name == name) {
    auto* mutable_arming = const_cast<EnvArming*>(arming);
    if (mutable_arming->hits.fetch_add(1) + 1 == arming->target) {
      ::kill(::getpid(), SIGKILL);
      ::pause();
    }
  }
  if (g_have_callbacks.load(std::memory_order_acquire)) {
    std::function<void()> cb;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      auto it = Callbacks().find(name);
      if (it != Callbacks().end()) cb = it->second;
    }
    if (cb) cb();
  }
}

void TEST_SetFaultPointCallback(const std::string& name,
                                std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (callback) {
    Callbacks()[name] = std::move(callback);
  } else {
    Callbacks().erase(name);
  }
  g_have_callbacks.store(!Callbacks().empty(), std::memory_order_release);
}

}  // namespace rocksmigrate
