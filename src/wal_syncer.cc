#include "src/wal_syncer.h"

#include "src/rocksdb_status.h"

namespace rocksmigrate {

WalSyncer::WalSyncer(rocksdb::DB* db, uint64_t max_unsynced)
    : db_(db), max_unsynced_(max_unsynced < 1 ? 1 : max_unsynced) {
  thread_ = std::thread([this] { Run(); });
}

WalSyncer::~WalSyncer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void WalSyncer::Run() {
  while (true) {
    uint64_t target;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || (written_ > durable_ && error_.ok());
      };
      mu_.Await(absl::Condition(&work));
      if (stop_) return;
    }
    absl::MutexLock io(&io_mu_);  // No write runs while we sync.
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      if (!error_.ok()) continue;  // A write failed while we waited.
      target = written_;
    }
    // FlushWAL(true) also covers a database opened with manual_wal_flush.
    rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
    absl::MutexLock lock(&mu_);
    if (!s.ok()) {
      error_ = FromRocksDb(s, "syncing the write-ahead log");
    } else {
      durable_ = target;
    }
  }
}

absl::Status WalSyncer::Write(const std::function<absl::Status()>& write) {
  absl::MutexLock io(&io_mu_);
  absl::Status s = write();
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    if (error_.ok()) error_ = s;  // Stops the syncer before it syncs again.
  }
  return s;
}

absl::Status WalSyncer::Written(uint64_t n) {
  absl::MutexLock lock(&mu_);
  written_ = n;
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !error_.ok() || written_ - durable_ <= max_unsynced_;
  };
  mu_.Await(absl::Condition(&room));
  return error_;
}

absl::Status WalSyncer::WaitDurable(uint64_t n) {
  absl::MutexLock lock(&mu_);
  auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !error_.ok() || durable_ >= n;
  };
  mu_.Await(absl::Condition(&done));
  return error_;
}

}  // namespace rocksmigrate
