// A fault-injecting file system for tests, on RocksDB's public
// FileSystemWrapper (Debian's RocksDB ships no fault_injection_fs.h).
//
// It does two things:
//   * Power loss. It tracks, per file written through it, the bytes appended
//     and the bytes synced, and which files were created (or renamed into
//     place) since their directory was last synced. DropUnsyncedData()
//     makes the disk look as after a machine crash: every tracked file is
//     truncated to its last synced size and every file created since the
//     last sync of its directory is deleted (as RocksDB's own
//     FaultInjectionTestFS does). SetActive(false) first makes every later
//     operation fail, so nothing more reaches the disk ("the machine died").
//   * I/O errors. Inject() makes the N-th write (Append, PositionedAppend,
//     file creation), sync (Sync, Fsync, RangeSync, directory Fsync) or read
//     (sequential or random-access Read, MultiRead) after arming fail with a
//     given IOStatus: once (transient) or from then on (persistent).
//
// Example:
//   auto fs = std::make_shared<FaultFs>(rocksdb::FileSystem::Default());
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   options.env = env.get();  // open the DB with it
//   fs->Inject({FaultFs::Op::kSync, /*nth=*/3, /*persistent=*/false,
//               rocksdb::IOStatus::IOError("injected")});
//
// Thread-safety: all methods are thread-safe.
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_FS_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace rocksmigrate {
namespace testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  enum class Op { kWrite, kSync, kRead };

  struct Injection {
    Op op = Op::kWrite;
    // The N-th operation of kind `op` counted from Inject() fails (N >= 1).
    int nth = 1;
    // False: only the N-th fails. True: the N-th and every later one.
    bool persistent = false;
    rocksdb::IOStatus error = rocksdb::IOStatus::IOError("injected fault");
  };

  explicit FaultFs(const std::shared_ptr<rocksdb::FileSystem>& base);

  static const char* kClassName() { return "RmFaultFs"; }
  const char* Name() const override { return kClassName(); }

  // Arms one injection (replacing any other) and resets the counters.
  void Inject(const Injection& injection);
  // Disarms; counters keep their values.
  void ClearInjection();
  // How many operations failed because of the injection since Inject().
  int injected_failures() const;
  // Operations of kind `op` seen since the last Inject() (or construction).
  int ops(Op op) const;

  // Inactive: every operation fails with IOError("file system inactive")
  // and nothing reaches the disk. Used to model the moment of power loss.
  void SetActive(bool active);
  bool active() const;
  // After `n` more write or sync operations the file system turns itself
  // inactive (the n-th one already fails). 0 disarms.
  void CrashAfterOps(int n);

  // Every later sync (file or directory) first sleeps `micros`; 0 turns it
  // off. Widens the window in which other threads run beside a sync.
  void SetSyncDelay(int micros);
  int sync_delay() const;

  // Power loss: truncates each tracked file to its last synced size and
  // deletes the files created since their directory's last sync. Then
  // forgets all tracking. REQUIRES: every file opened for writing is closed
  // (the DB is closed) — call it between closing and reopening.
  rocksdb::IOStatus DropUnsyncedData();

  // ---- FileSystem overrides ----
  rocksdb::IOStatus NewSequentialFile(
      const std::string& fname, const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSSequentialFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& fname, const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

  // ---- used by the file wrappers ----
  // Counts one operation of kind `op`; returns the error to fail it with,
  // or OK.
  // `what` names the file or directory, for RM_FAULT_DEBUG=1 logs.
  rocksdb::IOStatus Check(Op op, const std::string& what = "");
  void OnAppend(const std::string& fname, uint64_t end_offset);
  void OnSync(const std::string& fname);
  void OnDirSync(const std::string& dir);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  rocksdb::IOStatus CheckLocked(Op op, const std::string& what);
  void TrackNewFile(const std::string& fname, uint64_t existing_size);

  mutable std::mutex mu_;
  bool active_ = true;
  int crash_after_ = 0;
  int sync_delay_us_ = 0;  // Write/sync operations left before dying; 0 = off.
  bool armed_ = false;
  Injection injection_;
  int counts_[3] = {0, 0, 0};
  int failures_ = 0;
  std::map<std::string, FileState> files_;
  // Directory -> files created in it since its last sync.
  std::map<std::string, std::set<std::string>> new_files_;
};

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_FAULT_FS_H_
