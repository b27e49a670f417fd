#include "tests/testutil/fault_fs.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

namespace rocksmigrate {
namespace testing {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::string DirOf(const std::string& fname) {
  size_t slash = fname.rfind('/');
  return slash == std::string::npos ? std::string(".") : fname.substr(0, slash);
}

std::string StripSlash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target,
                    FaultFs* fs, std::string fname, uint64_t pos)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        fname_(std::move(fname)),
        pos_(pos) {}

  IOStatus Append(const Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kWrite, fname_);
    if (!s.ok()) return s;
    s = target()->Append(data, options, dbg);
    if (s.ok()) {
      pos_ += data.size();
      fs_->OnAppend(fname_, pos_);
    }
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& /*info*/,
                  IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kWrite, fname_);
    if (!s.ok()) return s;
    s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) {
      pos_ = std::max(pos_, offset + data.size());
      fs_->OnAppend(fname_, pos_);
    }
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            const rocksdb::DataVerificationInfo& /*info*/,
                            IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kSync, fname_);
    if (!s.ok()) return s;
    s = target()->Sync(options, dbg);
    if (s.ok()) fs_->OnSync(fname_);
    return s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kSync, fname_);
    if (!s.ok()) return s;
    s = target()->Fsync(options, dbg);
    if (s.ok()) fs_->OnSync(fname_);
    return s;
  }
  // A range sync is a hint about part of the file; it counts as a sync
  // operation but does not make the file durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kSync);
    if (!s.ok()) return s;
    return target()->RangeSync(offset, nbytes, options, dbg);
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    if (!fs_->active()) return IOStatus::IOError("file system inactive");
    return target()->Flush(options, dbg);
  }

 private:
  FaultFs* fs_;
  std::string fname_;
  uint64_t pos_;
};

class FaultSequentialFile : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> target,
                      FaultFs* fs)
      : FSSequentialFileOwnerWrapper(std::move(target)), fs_(fs) {}
  IOStatus Read(size_t n, const IOOptions& options, Slice* result,
                char* scratch, IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kRead);
    if (!s.ok()) return s;
    return target()->Read(n, options, result, scratch, dbg);
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions& options,
                          Slice* result, char* scratch,
                          IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kRead);
    if (!s.ok()) return s;
    return target()->PositionedRead(offset, n, options, result, scratch, dbg);
  }

 private:
  FaultFs* fs_;
};

class FaultRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> target,
                        FaultFs* fs)
      : FSRandomAccessFileOwnerWrapper(std::move(target)), fs_(fs) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& options,
                Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    IOStatus s = fs_->Check(FaultFs::Op::kRead);
    if (!s.ok()) return s;
    return target()->Read(offset, n, options, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                     const IOOptions& options, IODebugContext* dbg) override {
    for (size_t i = 0; i < num_reqs; ++i) {
      reqs[i].status = Read(reqs[i].offset, reqs[i].len, options,
                            &reqs[i].result, reqs[i].scratch, dbg);
    }
    return IOStatus::OK();
  }
  // Forces reads through Read() so that every one is counted.
  IOStatus ReadAsync(rocksdb::FSReadRequest& req, const IOOptions& opts,
                     std::function<void(const rocksdb::FSReadRequest&, void*)> cb,
                     void* cb_arg, void** io_handle,
                     rocksdb::IOHandleDeleter* del_fn,
                     IODebugContext* dbg) override {
    return IOStatus::NotSupported("FaultFs: no async reads");
  }

 private:
  FaultFs* fs_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> target, FaultFs* fs,
                 std::string dir)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), dir_(std::move(dir)) {}
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->Check(FaultFs::Op::kSync, dir_);
    if (!s.ok()) return s;
    s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) fs_->OnDirSync(dir_);
    return s;
  }
  IOStatus FsyncWithDirOptions(
      const IOOptions& options, IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_options) override {
    IOStatus s = fs_->Check(FaultFs::Op::kSync, dir_);
    if (!s.ok()) return s;
    s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->OnDirSync(dir_);
    return s;
  }

 private:
  FaultFs* fs_;
  std::string dir_;
};

IOStatus Inactive() {
  return IOStatus::IOError("file system inactive (simulated power loss)");
}

}  // namespace

FaultFs::FaultFs(const std::shared_ptr<rocksdb::FileSystem>& base)
    : FileSystemWrapper(base) {}

void FaultFs::Inject(const Injection& injection) {
  std::lock_guard<std::mutex> lock(mu_);
  injection_ = injection;
  armed_ = true;
  failures_ = 0;
  for (int& c : counts_) c = 0;
}

void FaultFs::ClearInjection() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
}

int FaultFs::injected_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

int FaultFs::ops(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<int>(op)];
}

void FaultFs::SetActive(bool active) {
  std::lock_guard<std::mutex> lock(mu_);
  active_ = active;
  if (active) crash_after_ = 0;
}

bool FaultFs::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

void FaultFs::CrashAfterOps(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = n;
}

IOStatus FaultFs::Check(Op op, const std::string& what) {
  if (op == Op::kSync) {
    const int delay = sync_delay();
    if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return CheckLocked(op, what);
}

void FaultFs::SetSyncDelay(int micros) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_delay_us_ = micros;
}

int FaultFs::sync_delay() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_delay_us_;
}

IOStatus FaultFs::CheckLocked(Op op, const std::string& what) {
  if (!active_) return Inactive();
  if (op != Op::kRead && crash_after_ > 0 && --crash_after_ == 0) {
    active_ = false;
    return Inactive();
  }
  int n = ++counts_[static_cast<int>(op)];
  if (armed_ && op == injection_.op &&
      (n == injection_.nth || (injection_.persistent && n > injection_.nth))) {
    ++failures_;
    static const bool debug = std::getenv("RM_FAULT_DEBUG") != nullptr;
    if (debug) {
      std::fprintf(stderr, "[fault-fs] failing op %d #%d on %s\n",
                   static_cast<int>(op), n, what.c_str());
    }
    return injection_.error;
  }
  return IOStatus::OK();
}

void FaultFs::OnAppend(const std::string& fname, uint64_t end_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[fname];
  f.size = std::max(f.size, end_offset);
}

void FaultFs::OnSync(const std::string& fname) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[fname];
  f.synced = f.size;
}

void FaultFs::OnDirSync(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  new_files_.erase(StripSlash(dir));
}

void FaultFs::TrackNewFile(const std::string& fname, uint64_t existing_size) {
  files_[fname] = FileState{existing_size, existing_size};
  if (existing_size == 0) new_files_[DirOf(fname)].insert(fname);
}

IOStatus FaultFs::NewSequentialFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSSequentialFile>* result, IODebugContext* dbg) {
  if (!active()) return Inactive();
  std::unique_ptr<rocksdb::FSSequentialFile> base;
  IOStatus s = target()->NewSequentialFile(fname, opts, &base, dbg);
  if (s.ok()) result->reset(new FaultSequentialFile(std::move(base), this));
  return s;
}

IOStatus FaultFs::NewRandomAccessFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
    IODebugContext* dbg) {
  if (!active()) return Inactive();
  std::unique_ptr<rocksdb::FSRandomAccessFile> base;
  IOStatus s = target()->NewRandomAccessFile(fname, opts, &base, dbg);
  if (s.ok()) result->reset(new FaultRandomAccessFile(std::move(base), this));
  return s;
}

IOStatus FaultFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  IOStatus s = Check(Op::kWrite, fname);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> base;
  s = target()->NewWritableFile(fname, opts, &base, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TrackNewFile(fname, 0);
  }
  result->reset(new FaultWritableFile(std::move(base), this, fname, 0));
  return s;
}

IOStatus FaultFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  IOStatus s = Check(Op::kWrite);
  if (!s.ok()) return s;
  uint64_t size = 0;
  bool existed =
      target()->GetFileSize(fname, IOOptions(), &size, dbg).ok();
  std::unique_ptr<rocksdb::FSWritableFile> base;
  s = target()->ReopenWritableFile(fname, opts, &base, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(fname);
    if (it == files_.end()) {
      if (existed) {
        files_[fname] = FileState{size, size};  // Durable before we saw it.
      } else {
        TrackNewFile(fname, 0);
      }
    }
  }
  result->reset(new FaultWritableFile(std::move(base), this, fname, size));
  return s;
}

IOStatus FaultFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  IOStatus s = Check(Op::kWrite);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> base;
  s = target()->ReuseWritableFile(fname, old_fname, opts, &base, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(old_fname);
    TrackNewFile(fname, 0);
  }
  result->reset(new FaultWritableFile(std::move(base), this, fname, 0));
  return s;
}

IOStatus FaultFs::NewDirectory(const std::string& name,
                               const IOOptions& io_opts,
                               std::unique_ptr<rocksdb::FSDirectory>* result,
                               IODebugContext* dbg) {
  if (!active()) return Inactive();
  std::unique_ptr<rocksdb::FSDirectory> base;
  IOStatus s = target()->NewDirectory(name, io_opts, &base, dbg);
  if (s.ok()) {
    result->reset(new FaultDirectory(std::move(base), this, StripSlash(name)));
  }
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& fname,
                             const IOOptions& options, IODebugContext* dbg) {
  if (!active()) return Inactive();
  IOStatus s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(fname);
    auto it = new_files_.find(DirOf(fname));
    if (it != new_files_.end()) it->second.erase(fname);
  }
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& src, const std::string& target,
                             const IOOptions& options, IODebugContext* dbg) {
  if (!active()) return Inactive();
  IOStatus s = FileSystemWrapper::RenameFile(src, target, options, dbg);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto f = files_.find(src);
  if (f != files_.end()) {
    files_[target] = f->second;
    files_.erase(f);
  }
  // The rename is durable only once the target's directory is synced; a
  // source that was itself new stays new under its new name.
  auto dir = new_files_.find(DirOf(src));
  if (dir != new_files_.end() && dir->second.erase(src) > 0) {
    new_files_[DirOf(target)].insert(target);
  }
  return s;
}

IOStatus FaultFs::LinkFile(const std::string& src, const std::string& target,
                           const IOOptions& options, IODebugContext* dbg) {
  if (!active()) return Inactive();
  IOStatus s = FileSystemWrapper::LinkFile(src, target, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    new_files_[DirOf(target)].insert(target);
  }
  return s;
}

IOStatus FaultFs::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus result;
  for (const auto& [fname, state] : files_) {
    if (state.size <= state.synced) continue;
    if (::truncate(fname.c_str(), static_cast<off_t>(state.synced)) != 0 &&
        errno != ENOENT && result.ok()) {
      result = IOStatus::IOError("truncating " + fname);
    }
  }
  for (const auto& [dir, names] : new_files_) {
    for (const std::string& fname : names) {
      if (::unlink(fname.c_str()) != 0 && errno != ENOENT && result.ok()) {
        result = IOStatus::IOError("deleting " + fname);
      }
    }
  }
  files_.clear();
  new_files_.clear();
  return result;
}

}  // namespace testing
}  // namespace rocksmigrate
