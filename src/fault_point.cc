#include "src/fault_point.h"

#include <atomic>
#include <map>
#include <mutex>

namespace rocksmigrate {
namespace {

std::atomic<bool> g_have_callbacks{false};
std::mutex g_mu;
std::map<std::string, std::function<void()>>& Callbacks() {
  static auto* m = new std::map<std::string, std::function<void()>>;
  return *m;
}

}  // namespace

void FaultPoint(const char* name) {
  if (!g_have_callbacks.load(std::memory_order_acquire)) return;
  std::function<void()> cb;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = Callbacks().find(name);
    if (it != Callbacks().end()) cb = it->second;
  }
  if (cb) cb();
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
