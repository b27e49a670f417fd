#include "src/backup_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "src/keys.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {

bool BackupStore::IsBackupId(std::string_view id) {
  // _backup_YYYYMMDD_HHMMSS[_N]
  constexpr size_t kStampLen = 8 + 15;  // "_backup_" + "YYYYMMDD_HHMMSS"
  if (id.size() < kStampLen || id.substr(0, 8) != kBackupPrefix) return false;
  for (size_t i = 8; i < kStampLen; ++i) {
    bool digit = id[i] >= '0' && id[i] <= '9';
    if (i == 16 ? id[i] != '_' : !digit) return false;
  }
  if (id.size() == kStampLen) return true;
  if (id[kStampLen] != '_' || id.size() == kStampLen + 1) return false;
  for (size_t i = kStampLen + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return true;
}

absl::StatusOr<std::string> BackupStore::NewId(absl::Time now) const {
  const std::string stamp = absl::StrCat(
      kBackupPrefix, absl::FormatTime("%Y%m%d_%H%M%S", now, absl::UTCTimeZone()));
  for (int n = 1; n < 100000; ++n) {
    std::string id = n == 1 ? stamp : absl::StrCat(stamp, "_", n);
    // Taken if a manifest or any record of that id exists.
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(
        meta_->db()->NewIterator(ro, meta_->backup_cf()));
    it->Seek(id);
    if (!it->status().ok()) {
      return FromRocksDb(it->status(), "looking for a free backup id");
    }
    bool taken = false;
    if (it->Valid()) {
      std::string_view k(it->key().data(), it->key().size());
      taken = k == id || (k.size() > id.size() && k.compare(0, id.size(), id) == 0 &&
                           k[id.size()] == ':');
    }
    if (!taken) return id;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("no free backup id for ", stamp));
}

absl::StatusOr<std::optional<BackupInfo>> BackupStore::Get(
    const std::string& id) const {
  std::string value;
  rocksdb::Status s =
      meta_->db()->Get(rocksdb::ReadOptions(), meta_->backup_cf(), id, &value);
  if (s.IsNotFound()) return std::optional<BackupInfo>();
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("reading backup ", id));
  auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  auto info = BackupInfoFromJson(j);
  if (!info.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup manifest ", id, " is unreadable"));
  }
  return std::optional<BackupInfo>(std::move(*info));
}

absl::StatusOr<std::vector<BackupInfo>> BackupStore::List() const {
  std::vector<BackupInfo> out;
  rocksdb::ReadOptions ro;
  const std::string upper = *PrefixSuccessor(kBackupPrefix);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      meta_->db()->NewIterator(ro, meta_->backup_cf()));
  for (it->Seek(kBackupPrefix); it->Valid();) {
    std::string key = it->key().ToString();
    if (IsBackupId(key)) {
      auto j = nlohmann::json::parse(it->value().ToString(), nullptr, false);
      auto info = BackupInfoFromJson(j);
      if (!info.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("backup manifest ", key, " is unreadable"));
      }
      out.push_back(std::move(*info));
      it->Seek(absl::StrCat(key, ";"));  // Jump over its records.
      continue;
    }
    // A record whose manifest is gone (cannot happen through our writes):
    // jump past its backup id.
    size_t colon = key.find(':');
    if (colon == std::string::npos) {
      it->Next();
    } else {
      it->Seek(absl::StrCat(key.substr(0, colon), ";"));
    }
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "listing backups");
  std::stable_sort(out.begin(), out.end(),
                   [](const BackupInfo& a, const BackupInfo& b) {
                     // In one millisecond, "_10" is newer than "_2": compare
                     // the suffix as a number (length first), not as text.
                     if (a.created_at != b.created_at) {
                       return a.created_at < b.created_at;
                     }
                     if (a.id.size() != b.id.size()) {
                       return a.id.size() < b.id.size();
                     }
                     return a.id < b.id;
                   });
  return out;
}

void BackupStore::PutManifest(rocksdb::WriteBatch* batch,
                              const BackupInfo& info) const {
  batch->Put(meta_->backup_cf(), info.id, DumpMetadata(ToJson(info)));
}

void BackupStore::PutRecord(rocksdb::WriteBatch* batch, std::string_view id,
                            std::string_view key,
                            std::string_view value) const {
  std::string k = BackupRecordKey(id, key);
  batch->Put(meta_->backup_cf(), k, rocksdb::Slice(value.data(), value.size()));
}

void BackupStore::StageDelete(rocksdb::WriteBatch* batch,
                              const std::string& id) const {
  KeyRange range = BackupRecordRange(id);
  batch->DeleteRange(meta_->backup_cf(), range.begin, *range.end);
  batch->Delete(meta_->backup_cf(), id);
}

}  // namespace rocksmigrate
