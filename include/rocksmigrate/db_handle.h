// Opening a database the way the admin tool and the benchmarks need it: as a
// TransactionDB with every column family it has, or, when another process
// holds it, as a read-only secondary instance.
#ifndef ROCKSMIGRATE_DB_HANDLE_H_
#define ROCKSMIGRATE_DB_HANDLE_H_

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
  // Primary if free, else a secondary instance (DB::OpenAsSecondary) that
  // reads a live database without its lock. Never writes user data.
  kReadOnly,
};

// An open database and its column family handles; closes them on
// destruction.
class DbHandle {
 public:
  // Opens the database at `path` with every column family it has. A path
  // without a database is InvalidArgument (nothing creates one). With
  // `create_backup_cf`, a kReadWrite open also creates kBackupColumnFamily if
  // it is missing. `options` tunes the open (create_if_missing is ignored).
  static absl::StatusOr<std::unique_ptr<DbHandle>> Open(
      const std::string& path, OpenMode mode,
      const rocksdb::Options& options = rocksdb::Options(),
      bool create_backup_cf = false);
  ~DbHandle();

  // The database: a rocksdb::TransactionDB when opened as primary.
  rocksdb::DB* db() const { return db_; }
  // The backup column family, or nullptr if the database has none.
  rocksdb::ColumnFamilyHandle* backup_column_family() const;
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

#endif  // ROCKSMIGRATE_DB_HANDLE_H_
