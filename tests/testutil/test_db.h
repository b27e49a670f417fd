// Test helpers: fresh temporary databases, byte-exact dumps, and status
// matchers (Debian's Abseil ships none).
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_TEST_DB_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_TEST_DB_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/transaction_db.h"

namespace rocksmigrate {
namespace testing {

// A directory under $TMPDIR (or /tmp), removed with its contents on
// destruction unless RM_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every key and value of one column family, in key order.
using Dump = std::map<std::string, std::string>;

// A TransactionDB opened on a path with all its column families; closes on
// destruction. Options: create_if_missing, WAL on.
class TestDb {
 public:
  // Opens (creating if missing). With `backup_cf`, ensures a column family
  // named "rocksmigrate_backups" exists and exposes it.
  static std::unique_ptr<TestDb> Open(const std::string& path,
                                      bool backup_cf = false);
  ~TestDb();

  rocksdb::TransactionDB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* backup_cf() const { return backup_cf_; }
  const std::string& path() const { return path_; }

  // Writes `records` (key -> value) in one synced batch.
  void Put(const Dump& records);
  void Put(const std::string& key, const std::string& value);
  // Deletes `key` (default column family), synced.
  void Delete(const std::string& key);
  // All keys of the default column family (or `cf`).
  Dump DumpAll(rocksdb::ColumnFamilyHandle* cf = nullptr) const;
  // Keys not starting with '_' (the user records).
  Dump DumpUser() const;

 private:
  std::string path_;
  rocksdb::TransactionDB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* backup_cf_ = nullptr;
};

// Reads every key of a closed database at `path` (default column family).
Dump DumpPath(const std::string& path);

// Printable form of a dump difference, for failure messages.
std::string DescribeDiff(const Dump& expected, const Dump& actual);

namespace internal {
inline absl::Status GetStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

MATCHER(IsOk, "is OK") {
  absl::Status s = ::rocksmigrate::testing::internal::GetStatus(arg);
  if (s.ok()) return true;
  *result_listener << "status: " << s;
  return false;
}

MATCHER_P(StatusIs, code,
          std::string("has code ") + absl::StatusCodeToString(code)) {
  absl::Status s = ::rocksmigrate::testing::internal::GetStatus(arg);
  if (s.code() == code) return true;
  *result_listener << "status: " << s;
  return false;
}

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_TEST_DB_H_
