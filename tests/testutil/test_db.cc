#include "tests/testutil/test_db.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "glog/logging.h"

namespace rocksmigrate {
namespace testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") +
                     "/rocksmigrate-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  CHECK(made != nullptr) << "mkdtemp failed for " << tmpl;
  path_ = made;
}

TempDir::~TempDir() {
  if (std::getenv("RM_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<TestDb> TestDb::Open(const std::string& path, bool backup_cf) {
  auto t = std::unique_ptr<TestDb>(new TestDb);
  t->path_ = path;
  rocksdb::Options options;
  options.create_if_missing = true;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!s.ok()) names = {rocksdb::kDefaultColumnFamilyName};
  bool have_backup = false;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) {
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions(options));
    if (n == "rocksmigrate_backups") have_backup = true;
  }
  s = rocksdb::TransactionDB::Open(options, rocksdb::TransactionDBOptions(),
                                   path, cfs, &t->handles_, &t->db_);
  CHECK(s.ok()) << "opening " << path << ": " << s.ToString();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "rocksmigrate_backups") t->backup_cf_ = t->handles_[i];
  }
  if (backup_cf && !have_backup) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    s = t->db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(options),
                                   "rocksmigrate_backups", &h);
    CHECK(s.ok()) << s.ToString();
    t->handles_.push_back(h);
    t->backup_cf_ = h;
  }
  return t;
}

TestDb::~TestDb() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  delete db_;
}

void TestDb::Put(const Dump& records) {
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : records) batch.Put(k, v);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  CHECK(s.ok()) << s.ToString();
}

void TestDb::Delete(const std::string& key) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Delete(wo, key);
  CHECK(s.ok()) << s.ToString();
}

void TestDb::Put(const std::string& key, const std::string& value) {
  Put(Dump{{key, value}});
}

Dump TestDb::DumpAll(rocksdb::ColumnFamilyHandle* cf) const {
  Dump out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(
      rocksdb::ReadOptions(), cf != nullptr ? cf : db_->DefaultColumnFamily()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out[it->key().ToString()] = it->value().ToString();
  }
  CHECK(it->status().ok()) << it->status().ToString();
  return out;
}

Dump TestDb::DumpUser() const {
  Dump all = DumpAll();
  Dump out;
  for (auto& [k, v] : all) {
    if (k.empty() || k[0] != '_') out[k] = v;
  }
  return out;
}

Dump DumpPath(const std::string& path) {
  auto db = TestDb::Open(path);
  return db->DumpAll();
}

std::string DescribeDiff(const Dump& expected, const Dump& actual) {
  std::ostringstream os;
  int shown = 0;
  for (const auto& [k, v] : expected) {
    auto it = actual.find(k);
    if (it == actual.end()) {
      if (shown++ < 10) os << "missing key " << k << "\n";
    } else if (it->second != v) {
      if (shown++ < 10) {
        os << "key " << k << ": expected " << v.size() << " bytes '"
           << v.substr(0, 80) << "', got " << it->second.size() << " bytes '"
           << it->second.substr(0, 80) << "'\n";
      }
    }
  }
  for (const auto& [k, v] : actual) {
    if (expected.count(k) == 0 && shown++ < 10) os << "extra key " << k << "\n";
  }
  if (shown > 10) os << "(" << shown - 10 << " more differences)\n";
  return os.str();
}

}  // namespace testing
}  // namespace rocksmigrate
