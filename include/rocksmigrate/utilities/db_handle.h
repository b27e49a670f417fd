// Opening a database the way the admin tool and the benchmarks need it: as a
// TransactionDB with every column family it has and the options it was last
// opened with, or, for reading, as a secondary instance.
#ifndef ROCKSMIGRATE_UTILITIES_DB_HANDLE_H_
#define ROCKSMIGRATE_UTILITIES_DB_HANDLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace rocksmigrate {

// The column family that holds backups when a database has one by this name.
inline constexpr char kBackupColumnFamily[] = "rocksmigrate_backups";

enum class OpenMode {
  // Primary TransactionDB; fails with Unavailable if another process holds
  // the database (RocksDB's LOCK file).
  kReadWrite,
  // A secondary instance (DB::OpenAsSecondary) in a temporary directory:
  // reads the database, live or not, without its lock and without writing
  // to its files, so a server may open it meanwhile. The directory
  // ($TMPDIR/rocksmigrate-secondary-<pid>-XXXXXX) is removed when the handle
  // is destroyed; one left by a process that was killed is removed by the
  // next kReadOnly open.
  kReadOnly,
};

// An open database and its column family handles; closes them on
// destruction.
class DbHandle {
 public:
  // Opens the database at `path` with every column family it has. A path
  // without a database is InvalidArgument (nothing creates one); a database
  // whose LOCK file another process holds is Unavailable, naming its pid. With
  // `create_backup_cf`, a kReadWrite open also creates kBackupColumnFamily if
  // it is missing. `options` tunes the open (create_if_missing is ignored).
  //
  // Memory does not grow with the database: memtable history is off, and
  // every block-based column family keeps its index and filter blocks in one
  // 8 MiB block cache shared by all column families (RocksDB's
  // cache_index_and_filter_blocks) instead of on the heap for each open
  // file. Neither changes the files written.
  static absl::StatusOr<std::unique_ptr<DbHandle>> Open(
      const std::string& path, OpenMode mode,
      const rocksdb::Options& options = rocksdb::Options(),
      const std::string& create_column_family = "");
  ~DbHandle();

  // The database: a rocksdb::TransactionDB when opened as primary.
  rocksdb::DB* db() const { return db_; }
  // The column family named kBackupColumnFamily, or nullptr if the
  // database has none.
  rocksdb::ColumnFamilyHandle* backup_column_family() const;
  // The column family named `name` ("default" included), or nullptr.
  rocksdb::ColumnFamilyHandle* column_family(const std::string& name) const;
  // Every column family's handle, the default one first.
  const std::vector<rocksdb::ColumnFamilyHandle*>& column_families() const {
    return handles_;
  }
  bool is_secondary() const { return secondary_; }
  const std::string& path() const { return path_; }

 private:
  DbHandle() = default;
  std::string path_;
  std::string secondary_dir_;  // Temp dir of a secondary instance.
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool secondary_ = false;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_UTILITIES_DB_HANDLE_H_
