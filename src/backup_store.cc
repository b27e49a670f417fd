#include "src/backup_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/keys.h"
#include "src/rocksdb_status.h"
#include "src/sha256.h"
#include "rocksmigrate/status_macros.h"

namespace rocksmigrate {
namespace {

std::string NameOf(rocksdb::ColumnFamilyHandle* cf) {
  return cf->GetName() == rocksdb::kDefaultColumnFamilyName
             ? std::string(kDefaultColumnFamilyName)
             : cf->GetName();
}

bool UnderPrefixes(std::string_view key,
                   const std::vector<std::string>& prefixes) {
  if (!key.empty() && key[0] == '_') return false;  // Never a user record.
  for (const std::string& p : prefixes) {
    if (key.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace

BackupStore::BackupStore(
    const MetaStore* meta, rocksdb::ColumnFamilyHandle* write_cf,
    const std::vector<rocksdb::ColumnFamilyHandle*>& others)
    : meta_(meta),
      write_cf_(write_cf != nullptr ? write_cf
                                    : meta->db()->DefaultColumnFamily()) {
  all_.push_back(write_cf_);
  auto add = [this](rocksdb::ColumnFamilyHandle* cf) {
    for (rocksdb::ColumnFamilyHandle* h : all_) {
      if (h->GetID() == cf->GetID()) return;
    }
    all_.push_back(cf);
  };
  add(meta->db()->DefaultColumnFamily());
  for (rocksdb::ColumnFamilyHandle* cf : others) {
    if (cf != nullptr) add(cf);
  }
}

std::string BackupStore::write_cf_name() const { return NameOf(write_cf_); }

absl::StatusOr<rocksdb::ColumnFamilyHandle*> BackupStore::Resolve(
    const std::string& name) const {
  const std::string wanted = name.empty() ? kDefaultColumnFamilyName : name;
  for (rocksdb::ColumnFamilyHandle* cf : all_) {
    if (NameOf(cf) == wanted) return cf;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the backup is in column family '", PrintableKey(wanted),
      "', which this migrator was not given (MigratorOptions::"
      "backup_column_family or column_families); nothing was written"));
}

absl::StatusOr<std::string> BackupStore::NewId(absl::Time now) const {
  const std::string stamp = absl::StrCat(
      kBackupPrefix, absl::FormatTime("%Y%m%d_%H%M%S", now, absl::UTCTimeZone()));
  for (int n = 1; n < 100000; ++n) {
    std::string id = n == 1 ? stamp : absl::StrCat(stamp, "_", n);
    bool taken = false;
    for (rocksdb::ColumnFamilyHandle* cf : all_) {
      // Taken if a manifest or any record of that id exists.
      std::unique_ptr<rocksdb::Iterator> it(
          meta_->db()->NewIterator(rocksdb::ReadOptions(), cf));
      it->Seek(id);
      if (!it->status().ok()) {
        return FromRocksDb(it->status(), "looking for a free backup id");
      }
      if (it->Valid()) {
        std::string_view k(it->key().data(), it->key().size());
        taken = k == id || (k.size() > id.size() &&
                            k.compare(0, id.size(), id) == 0 &&
                            k[id.size()] == ':');
      }
      if (taken) break;
    }
    if (!taken) return id;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("no free backup id for ", stamp));
}

absl::StatusOr<std::optional<BackupInfo>> BackupStore::Get(
    const std::string& id, const std::string& cf_name) const {
  std::vector<rocksdb::ColumnFamilyHandle*> where;
  if (cf_name.empty()) {
    where = all_;
  } else {
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = Resolve(cf_name);
    if (!cf.ok()) return cf.status();
    where.push_back(*cf);
  }
  for (rocksdb::ColumnFamilyHandle* cf : where) {
    absl::StatusOr<std::optional<std::string>> value = meta_->Get(id, cf);
    if (!value.ok()) return value.status();
    if (!value->has_value()) continue;
    absl::StatusOr<BackupInfo> info = DecodeManifest(**value, id);
    if (!info.ok()) return info.status();
    info->column_family = NameOf(cf);
    return std::optional<BackupInfo>(std::move(*info));
  }
  return std::optional<BackupInfo>();
}

uint64_t BackupStore::ApproximateBytes(rocksdb::ColumnFamilyHandle* cf,
                                       const std::string& id) const {
  const KeyRange records = BackupRecordRange(id);
  const KeyRange digests = BackupDigestRange(id);
  const rocksdb::Range ranges[2] = {
      rocksdb::Range(records.begin, *records.end),
      rocksdb::Range(digests.begin, *digests.end)};
  uint64_t sizes[2] = {0, 0};
  rocksdb::SizeApproximationOptions so;
  so.include_memtables = true;
  so.include_files = true;
  if (!meta_->db()->GetApproximateSizes(so, cf, ranges, 2, sizes).ok()) {
    return 0;
  }
  return sizes[0] + sizes[1];
}

absl::StatusOr<std::vector<BackupInfo>> BackupStore::List() const {
  std::vector<BackupInfo> out;
  const std::string upper = *PrefixSuccessor(kBackupPrefix);
  for (rocksdb::ColumnFamilyHandle* cf : all_) {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(meta_->db()->NewIterator(ro, cf));
    for (it->Seek(kBackupPrefix); it->Valid();) {
      std::string key = it->key().ToString();
      if (IsBackupId(key)) {
        absl::StatusOr<BackupInfo> info = DecodeManifest(
            std::string_view(it->value().data(), it->value().size()), key);
        if (info.ok()) {
          out.push_back(std::move(*info));
        } else {
          BackupInfo bad;
          bad.id = key;
          bad.readable = false;
          bad.problem = std::string(info.status().message());
          out.push_back(std::move(bad));
        }
        out.back().column_family = NameOf(cf);
        out.back().approximate_bytes = ApproximateBytes(cf, key);
        it->Seek(absl::StrCat(key, ";"));  // Jump over its records.
        continue;
      }
      // A record (or digest) whose manifest is gone: jump past its backup
      // id.
      size_t colon = key.find_first_of(":#", sizeof(kBackupPrefix) - 1);
      if (colon == std::string::npos) {
        it->Next();
      } else {
        it->Seek(absl::StrCat(key.substr(0, colon), ";"));
      }
    }
    if (!it->status().ok()) return FromRocksDb(it->status(), "listing backups");
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const BackupInfo& a, const BackupInfo& b) {
                     // In one millisecond, "_10" is newer than "_2": compare
                     // the suffix as a number (length first), not as text.
                     // Unreadable manifests sort by their id's stamp.
                     const std::string& ta = a.readable ? a.created_at : a.id;
                     const std::string& tb = b.readable ? b.created_at : b.id;
                     if (a.readable == b.readable && ta != tb) return ta < tb;
                     if (a.id.size() != b.id.size() &&
                         a.id.compare(0, 23, b.id, 0, 23) == 0) {
                       return a.id.size() < b.id.size();
                     }
                     return a.id < b.id;
                   });
  return out;
}

absl::StatusOr<BackupVerification> BackupStore::Verify(
    const BackupInfo& info, uint64_t expected_items) const {
  BackupVerification v;
  v.backup = info;
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = Resolve(info.column_family);
  if (!cf.ok()) return cf.status();
  const KeyRange range = BackupRecordRange(info.id);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(*range.end);
  ro.iterate_upper_bound = &upper;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(meta_->db()->NewIterator(ro, *cf));
  const size_t strip = info.id.size() + 1;
  std::string first_outside;
  for (it->Seek(range.begin); it->Valid(); it->Next()) {
    ++v.records_present;
    std::string_view key(it->key().data() + strip, it->key().size() - strip);
    if (!UnderPrefixes(key, info.prefixes)) {
      if (v.records_outside_prefixes++ == 0) first_outside = std::string(key);
    }
  }
  if (!it->status().ok()) {
    return FromRocksDb(it->status(),
                       absl::StrCat("reading the records of backup ", info.id));
  }
  // The digest blocks of an online step must decode: a restore reads them.
  std::string damaged_block;
  {
    const KeyRange digests = BackupDigestRange(info.id);
    rocksdb::ReadOptions dro;
    rocksdb::Slice dupper(*digests.end);
    dro.iterate_upper_bound = &dupper;
    dro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> d(meta_->db()->NewIterator(dro, *cf));
    for (d->Seek(digests.begin); d->Valid() && damaged_block.empty(); d->Next()) {
      if (!DecodeDigestBlock(std::string_view(d->value().data(), d->value().size()),
                             d->key().ToString())
               .ok()) {
        damaged_block = d->key().ToString();
      }
    }
    if (!d->status().ok()) {
      return FromRocksDb(d->status(), absl::StrCat("reading the digests of backup ",
                                                   info.id));
    }
  }
  std::string problem;
  if (!damaged_block.empty()) {
    problem = absl::StrCat("its digest block '", PrintableKey(damaged_block),
                           "' is damaged (deleting that key lets the records it "
                           "covers be restored without comparing them, "
                           "overwriting any server write to them since the step)");
  } else if (v.records_present != expected_items) {
    problem = absl::StrCat("it holds ", v.records_present,
                           " records where the step backed up ",
                           expected_items);
  } else if (v.records_outside_prefixes > 0) {
    problem = absl::StrCat(v.records_outside_prefixes,
                           " of its records lie outside its prefixes (first: '",
                           PrintableKey(first_outside), "')");
  }
  v.status = problem.empty()
                 ? absl::OkStatus()
                 : absl::DataLossError(absl::StrCat(
                       "backup ", info.id, " (step v", info.from, " -> v",
                       info.to, ") does not hold what its manifest says: ",
                       problem));
  return v;
}

void BackupStore::PutManifest(rocksdb::WriteBatch* batch,
                              rocksdb::ColumnFamilyHandle* cf,
                              const BackupInfo& info) const {
  batch->Put(cf, info.id, EncodeManifest(info));
}

void BackupStore::PutRecord(rocksdb::WriteBatch* batch,
                            rocksdb::ColumnFamilyHandle* cf,
                            std::string_view id, std::string_view key,
                            std::string_view value) const {
  std::string k = BackupRecordKey(id, key);
  batch->Put(cf, k, rocksdb::Slice(value.data(), value.size()));
}

std::string WrittenDigest(ItemResult::Kind kind, std::string_view new_value) {
  if (kind == ItemResult::Kind::kDelete) return "d";
  return absl::StrCat("w", Sha256Raw(new_value));
}

bool HoldsWritten(std::string_view digest, const std::string* current) {
  if (digest == "d") return current == nullptr;
  return current != nullptr && digest.size() == 33 && digest[0] == 'w' &&
         digest.substr(1) == Sha256Raw(*current);
}

namespace {

void PutLength(std::string* out, size_t n) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

bool GetLength(std::string_view* in, size_t* n) {
  size_t v = 0;
  for (int shift = 0; shift < 35 && !in->empty(); shift += 7) {
    const unsigned char b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    v |= static_cast<size_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *n = v;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string EncodeDigestBlock(const std::vector<DigestEntry>& entries) {
  std::string out;
  for (const DigestEntry& e : entries) {
    PutLength(&out, e.key.size());
    out.append(e.key);
    PutLength(&out, e.digest.size());
    out.append(e.digest);
  }
  return out;
}

absl::StatusOr<std::vector<DigestEntry>> DecodeDigestBlock(
    std::string_view bytes, std::string_view block_key) {
  std::vector<DigestEntry> out;
  while (!bytes.empty()) {
    size_t n = 0;
    DigestEntry e;
    if (!GetLength(&bytes, &n) || n > bytes.size()) break;
    e.key = std::string(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (!GetLength(&bytes, &n) || n > bytes.size()) break;
    e.digest = std::string(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (!out.empty() && e.key <= out.back().key) break;
    out.push_back(std::move(e));
    if (bytes.empty()) return out;
  }
  return absl::DataLossError(absl::StrCat(
      "digest block '", PrintableKey(block_key),
      "' is damaged: it is not a list of the records an online step wrote "
      "(the restore compares them before putting a record back)"));
}

absl::StatusOr<std::optional<std::string>> DigestLookup::Find(
    const std::string& key) {
  // The block found by seeking `seek_key_` is the first whose last key is
  // at or after it: it is also the one for every key from `seek_key_` to its
  // last key (or, past the end, there is none for any key after it).
  const bool covered = loaded_ && key >= seek_key_ &&
                       (past_end_ || key <= block_last_);
  if (!covered) {
    loaded_ = true;
    seek_key_ = key;
    block_.clear();
    const KeyRange range = BackupDigestRange(id_);
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(*range.end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
    it->Seek(BackupDigestKey(id_, key));
    if (!it->status().ok()) {
      return FromRocksDb(it->status(), "reading the digests of backup " + id_);
    }
    past_end_ = !it->Valid();
    if (!past_end_) {
      const std::string block_key = it->key().ToString();
      block_last_ = block_key.substr(range.begin.size());
      RM_ASSIGN_OR_RETURN(
          block_, DecodeDigestBlock(std::string_view(it->value().data(),
                                                     it->value().size()),
                                    block_key));
    }
  }
  if (past_end_) return std::optional<std::string>();
  auto it = std::lower_bound(
      block_.begin(), block_.end(), key,
      [](const DigestEntry& e, const std::string& k) { return e.key < k; });
  if (it == block_.end() || it->key != key) return std::optional<std::string>();
  return std::optional<std::string>(it->digest);
}

void BackupStore::StageDelete(rocksdb::WriteBatch* batch,
                              rocksdb::ColumnFamilyHandle* cf,
                              const std::string& id) const {
  KeyRange range = BackupRecordRange(id);
  batch->DeleteRange(cf, range.begin, *range.end);
  KeyRange digests = BackupDigestRange(id);
  batch->DeleteRange(cf, digests.begin, *digests.end);
  batch->Delete(cf, id);
}

}  // namespace rocksmigrate
