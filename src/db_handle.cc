#include "rocksmigrate/utilities/db_handle.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/utilities/transaction_db.h"

namespace rocksmigrate {
namespace {

// The pid of another process holding RocksDB's LOCK file of the database at
// `path`, or nullopt when none does. RocksDB locks that file with a POSIX
// record lock (fcntl F_SETLK); F_GETLK names the holder. The open's status
// is not parsed: its text is RocksDB's and may contain any path.
std::optional<pid_t> LockHolder(const std::string& path) {
  const std::string lock_file = (std::filesystem::path(path) / "LOCK").string();
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock query = {};
  query.l_type = F_WRLCK;
  query.l_whence = SEEK_SET;
  query.l_start = 0;
  query.l_len = 0;
  const int rc = ::fcntl(fd, F_GETLK, &query);
  ::close(fd);
  if (rc != 0 || query.l_type == F_UNLCK) return std::nullopt;
  return query.l_pid;
}

absl::Status OpenError(const std::string& path, const rocksdb::Status& s) {
  if (s.IsIOError()) {
    if (std::optional<pid_t> holder = LockHolder(path)) {
      return absl::UnavailableError(absl::StrCat(
          "database ", path, " is locked by another process (pid ", *holder,
          ", a running server?)"));
    }
  }
  const std::string text =
      absl::StrCat("cannot open database ", path, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(text);
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return absl::InvalidArgumentError(text);
  }
  return absl::InternalError(text);
}

constexpr char kSecondaryDirStem[] = "rocksmigrate-secondary-";

// Removes the scratch directories of secondary instances whose process is
// gone (killed before its DbHandle was destroyed). A directory is named
// "rocksmigrate-secondary-<pid>-XXXXXX"; one whose pid is alive, or whose
// name does not parse, is left alone.
void RemoveStaleSecondaryDirs(const std::filesystem::path& tmp) {
  std::error_code ec;
  std::filesystem::directory_iterator it(tmp, ec);
  if (ec) return;
  for (const std::filesystem::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kSecondaryDirStem, 0) != 0) continue;
    const std::string rest = name.substr(sizeof(kSecondaryDirStem) - 1);
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    pid_t pid = 0;
    bool digits = true;
    for (size_t i = 0; i < dash; ++i) {
      if (rest[i] < '0' || rest[i] > '9' || pid > 100000000) {
        digits = false;
        break;
      }
      pid = pid * 10 + (rest[i] - '0');
    }
    if (!digits || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // Alive, or unknown.
    std::error_code remove_ec;
    std::filesystem::remove_all(entry.path(), remove_ec);
  }
}

// Index and filter blocks go into one block cache of this size shared by all
// column families, instead of onto the heap for as long as their file is
// open: on the heap they grow with the data (about 60 MiB at 10 million
// 230-byte records, 300 MiB at 50 million); in the cache they are bounded.
// 8 MiB is the size of the cache RocksDB creates by default; a larger one
// (32 MiB was measured) grew from 3 MiB at 1M records to 10-22 MiB at 10M
// without making the migration faster.
constexpr size_t kBlockCacheBytes = 8 << 20;

// `cf` with its block-based table options changed to keep index and filter
// blocks in `cache`. Other table formats are left as they are.
void BoundTableMemory(const std::shared_ptr<rocksdb::Cache>& cache,
                      rocksdb::ColumnFamilyOptions* cf) {
  rocksdb::BlockBasedTableOptions table;
  if (cf->table_factory != nullptr) {
    const auto* loaded =
        cf->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    if (loaded == nullptr) return;  // Not a block-based table.
    table = *loaded;
  }
  table.block_cache = cache;
  table.no_block_cache = false;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  cf->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DbHandle>> DbHandle::Open(
    const std::string& path, OpenMode mode, const rocksdb::Options& options,
    const std::string& create_column_family) {
  std::error_code ec;
  // Nothing creates a database by accident (SPEC §8.7): a directory without
  // a CURRENT file is not a database.
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    return absl::InvalidArgumentError(absl::StrCat("no database at ", path));
  }
  rocksdb::Options open_options = options;
  open_options.create_if_missing = false;
  open_options.error_if_exists = false;

  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(
      rocksdb::DBOptions(open_options), path, &names);
  if (!s.ok()) return OpenError(path, s);

  // Open with the options the database was last opened with (its OPTIONS
  // file: compression, table format, write buffers...) where RocksDB can
  // load them, so the tool writes the files a server would. A database
  // whose options name a comparator or merge operator this binary does not
  // know cannot be loaded that way; it is opened with `options` and RocksDB
  // then says what does not match.
  std::map<std::string, rocksdb::ColumnFamilyOptions> persisted;
  {
    rocksdb::ConfigOptions config;
    config.ignore_unknown_options = true;
    rocksdb::DBOptions db_options;
    std::vector<rocksdb::ColumnFamilyDescriptor> loaded;
    if (rocksdb::LoadLatestOptions(config, path, &db_options, &loaded).ok()) {
      for (auto& d : loaded) persisted[d.name] = d.options;
    }
  }
  std::shared_ptr<rocksdb::Cache> block_cache =
      rocksdb::NewLRUCache(kBlockCacheBytes, /*num_shard_bits=*/-1,
                           /*strict_capacity_limit=*/false,
                           /*high_pri_pool_ratio=*/0.5);
  auto cf_options = [&](const std::string& name) {
    auto it = persisted.find(name);
    rocksdb::ColumnFamilyOptions cf = it != persisted.end()
                                          ? it->second
                                          : rocksdb::ColumnFamilyOptions(open_options);
    // TransactionDB keeps flushed memtables as a history for write-conflict
    // checks against snapshots, doubling the memtable memory; our locked
    // transactions take no snapshot, so keep none. (TransactionDB replaces
    // 0 with the full history, hence the smallest positive value.)
    cf.max_write_buffer_size_to_maintain = 1;
    BoundTableMemory(block_cache, &cf);
    return cf;
  };

  auto handle = std::unique_ptr<DbHandle>(new DbHandle());
  handle->path_ = path;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  bool has_wanted = false;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, cf_options(name));
    if (name == create_column_family) has_wanted = true;
  }
  if (mode == OpenMode::kReadWrite && !create_column_family.empty() &&
      !has_wanted) {
    // A backup column family this opens creates is written once and read
    // back only by a rollback: zstd, where the library has it, keeps it a
    // third smaller than snappy (55.8 MB of backup records: snappy 15.4 MB,
    // zstd 10.3 MB; 132 ms against 173 ms to compress, sst_dump
    // --command=recompress). RocksDB persists the choice in its OPTIONS
    // file, so later opens keep it.
    rocksdb::ColumnFamilyOptions created = cf_options(create_column_family);
    const std::vector<rocksdb::CompressionType> supported =
        rocksdb::GetSupportedCompressions();
    if (std::find(supported.begin(), supported.end(),
                  rocksdb::kZSTD) != supported.end()) {
      created.compression = rocksdb::kZSTD;
    }
    descriptors.emplace_back(create_column_family, std::move(created));
    open_options.create_missing_column_families = true;
  }

  if (mode == OpenMode::kReadWrite) {
    rocksdb::TransactionDB* txn_db = nullptr;
    s = rocksdb::TransactionDB::Open(open_options,
                                     rocksdb::TransactionDBOptions(), path,
                                     descriptors, &handle->handles_, &txn_db);
    if (!s.ok()) return OpenError(path, s);
    handle->db_ = txn_db;
    return handle;
  }

  // Reading: always as a secondary instance, which takes no lock and never
  // writes to the database's files, so a server can open (or hold) the
  // database while we read it.
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  RemoveStaleSecondaryDirs(tmp);
  std::string dir_template =
      (tmp / absl::StrCat(kSecondaryDirStem, ::getpid(), "-XXXXXX")).string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError(absl::StrCat(
        "cannot create a temporary directory in ", tmp.string(),
        " to read the database ", path, " as a secondary instance"));
  }
  handle->secondary_dir_ = dir_template;
  handle->secondary_ = true;
  handle->handles_.clear();
  rocksdb::Options secondary_options = open_options;
  secondary_options.create_missing_column_families = false;
  secondary_options.max_open_files = -1;  // Required for secondaries.
  rocksdb::DB* db = nullptr;
  s = rocksdb::DB::OpenAsSecondary(secondary_options, path,
                                   handle->secondary_dir_, descriptors,
                                   &handle->handles_, &db);
  if (!s.ok()) return OpenError(path, s);
  handle->db_ = db;
  s = db->TryCatchUpWithPrimary();
  if (!s.ok()) return OpenError(path, s);
  return handle;
}

DbHandle::~DbHandle() {
  if (db_ != nullptr && !secondary_) {
    // A TransactionDB runs with allow_2pc, and RocksDB 7.8 then keeps every
    // write-ahead log whose data was flushed only by the recovery at open:
    // each open of a small database replays (and keeps) all the logs of
    // every earlier run, so opens, secondary reads (status) included, grew
    // slower and bigger with each run (a 64 MiB record's migrate and
    // rollback left 400 MB of logs that every `status` replayed). A flush
    // at close lets RocksDB drop them. Best effort: a failed flush leaves
    // the logs, which the next open recovers as before.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = db_->Flush(fo, handles_);
    if (!s.ok()) LOG(WARNING) << "flushing " << path_ << ": " << s.ToString();
  }
  if (db_ != nullptr) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
      if (!s.ok()) LOG(WARNING) << "closing " << path_ << ": " << s.ToString();
    }
    delete db_;
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

rocksdb::ColumnFamilyHandle* DbHandle::backup_column_family() const {
  return column_family(kBackupColumnFamily);
}

rocksdb::ColumnFamilyHandle* DbHandle::column_family(
    const std::string& name) const {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

}  // namespace rocksmigrate
