#include "src/lease.h"

#include <unistd.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"
#include "src/fault_point.h"
#include "src/keys.h"

namespace rocksmigrate {
namespace {

absl::Mutex g_mu;
std::set<const rocksdb::DB*>& Held() {
  static auto* held = new std::set<const rocksdb::DB*>;
  return *held;
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lease>> Lease::Acquire(const MetaStore* meta,
                                                      absl::Duration wait) {
  const rocksdb::DB* key = meta->db();
  {
    absl::MutexLock lock(&g_mu);
    auto free = [key]() ABSL_SHARED_LOCKS_REQUIRED(g_mu) {
      return Held().count(key) == 0;
    };
    if (!free() && wait > absl::ZeroDuration()) {
      FaultPoint("lease_wait");
      g_mu.AwaitWithTimeout(absl::Condition(&free), wait);
    }
    if (!free()) {
      return absl::UnavailableError(absl::StrCat(
          "another migrator in this process is running on database ",
          meta->db()->GetName(), "; wait for it to finish"));
    }
    Held().insert(key);
  }
  return std::unique_ptr<Lease>(new Lease(meta));
}

absl::Status Lease::Record(absl::Time now) {
  if (recorded_) return absl::OkStatus();
  nlohmann::json holder = {{"owner", "rocksmigrate"},
                           {"pid", static_cast<int64_t>(getpid())},
                           {"host", HostName()},
                           {"acquired_at", FormatIsoTime(now)}};
  rocksdb::WriteBatch batch;
  batch.Put(kLockKey, DumpMetadata(holder));
  absl::Status s = meta_->Commit(&batch, "writing _migration_lock");
  if (s.ok()) recorded_ = true;
  return s;
}

Lease::~Lease() {
  if (recorded_) {
    rocksdb::WriteBatch batch;
    batch.Delete(kLockKey);
    absl::Status s = meta_->Commit(&batch, "deleting _migration_lock");
    if (!s.ok()) VLOG(1) << "rocksmigrate: " << s;
  }
  absl::MutexLock lock(&g_mu);
  Held().erase(meta_->db());
}

}  // namespace rocksmigrate
