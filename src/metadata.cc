#include "src/metadata.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "src/keys.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {
namespace {

using nlohmann::json;

absl::Status Unreadable(std::string_view key, std::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "metadata key ", std::string(key), " is unreadable (", std::string(why),
      "); the database was not written by a compatible rocksmigrate, or was "
      "damaged; inspect it with ldb before going on"));
}

// Field readers that tolerate nothing: a wrong type is an error.
template <typename T>
bool Read(const json& j, const char* name, T* out) {
  auto it = j.find(name);
  if (it == j.end()) return false;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else {
    if (!it->is_number_integer()) return false;
  }
  *out = it->get<T>();
  return true;
}

json OptionalString(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

bool ReadOptionalString(const json& j, const char* name,
                        std::optional<std::string>* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    out->reset();
    return true;
  }
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

bool ReadStrings(const json& j, const char* name,
                 std::vector<std::string>* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return false;
  out->clear();
  for (const auto& e : *it) {
    if (!e.is_string()) return false;
    out->push_back(e.get<std::string>());
  }
  return true;
}

bool ReadStringMap(const json& j, const char* name,
                   std::map<std::string, std::string>* out) {
  auto it = j.find(name);
  if (it == j.end()) return true;  // Optional.
  if (!it->is_object()) return false;
  out->clear();
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return false;
    (*out)[k] = v.get<std::string>();
  }
  return true;
}

}  // namespace

std::string FormatIsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string DumpMetadata(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false,
                json::error_handler_t::replace);
}

json ToJson(const HistoryEntry& e) {
  return json{{"run_id", e.run_id},
              {"from", e.from},
              {"to", e.to},
              {"migrations", e.migrations},
              {"status", e.status},
              {"items_migrated", e.items_migrated},
              {"items_skipped", e.items_skipped},
              {"started_at", e.started_at},
              {"duration_ms", e.duration_ms},
              {"backup_id", OptionalString(e.backup_id)},
              {"error", OptionalString(e.error)},
              {"checksums", e.checksums}};
}

absl::StatusOr<HistoryEntry> HistoryEntryFromJson(const json& j) {
  HistoryEntry e;
  if (!j.is_object() || !Read(j, "run_id", &e.run_id) ||
      !Read(j, "from", &e.from) || !Read(j, "to", &e.to) ||
      !ReadStrings(j, "migrations", &e.migrations) ||
      !Read(j, "status", &e.status) ||
      !Read(j, "items_migrated", &e.items_migrated) ||
      !Read(j, "items_skipped", &e.items_skipped) ||
      !Read(j, "started_at", &e.started_at) ||
      !Read(j, "duration_ms", &e.duration_ms) ||
      !ReadOptionalString(j, "backup_id", &e.backup_id) ||
      !ReadOptionalString(j, "error", &e.error) ||
      !ReadStringMap(j, "checksums", &e.checksums)) {
    return Unreadable(kHistoryKey, "an entry lacks a field or has a wrong type");
  }
  return e;
}

json ToJson(const BackupInfo& b) {
  return json{{"id", b.id},
              {"from", b.from},
              {"to", b.to},
              {"created_at", b.created_at},
              {"prefixes", b.prefixes},
              {"item_count", b.item_count},
              {"complete", b.complete},
              {"run_id", b.run_id}};
}

absl::StatusOr<BackupInfo> BackupInfoFromJson(const json& j) {
  BackupInfo b;
  if (!j.is_object() || !Read(j, "id", &b.id) || !Read(j, "from", &b.from) ||
      !Read(j, "to", &b.to) || !Read(j, "created_at", &b.created_at) ||
      !ReadStrings(j, "prefixes", &b.prefixes) ||
      !Read(j, "item_count", &b.item_count) ||
      !Read(j, "complete", &b.complete) || !Read(j, "run_id", &b.run_id)) {
    return Unreadable("backup manifest", "a field is missing or mistyped");
  }
  return b;
}

json ToJson(const Cursor& c) {
  const InFlight& i = c.info;
  return json{{"run_id", i.run_id},
              {"state", i.state},
              {"reason", i.reason},
              {"from", i.from},
              {"to", i.to},
              {"backup_id", OptionalString(i.backup_id)},
              {"prefix", i.prefix},
              {"prefix_index", c.prefix_index},
              {"has_last_key", c.has_last_key},
              {"last_key_hex", HexEncode(i.last_key)},
              {"items_migrated", i.items_migrated},
              {"items_skipped", i.items_skipped},
              {"items_restored", c.items_restored},
              {"started_at", i.started_at},
              {"error", OptionalString(i.error)},
              {"target", c.target},
              {"backup", c.backup},
              {"migrations", c.migrations},
              {"checksums", c.checksums},
              {"elapsed_ms", c.elapsed_ms}};
}

absl::StatusOr<Cursor> CursorFromJson(const json& j) {
  Cursor c;
  InFlight& i = c.info;
  std::string hex;
  if (!j.is_object() || !Read(j, "run_id", &i.run_id) ||
      !Read(j, "state", &i.state) || !Read(j, "reason", &i.reason) ||
      !Read(j, "from", &i.from) || !Read(j, "to", &i.to) ||
      !ReadOptionalString(j, "backup_id", &i.backup_id) ||
      !Read(j, "prefix", &i.prefix) ||
      !Read(j, "prefix_index", &c.prefix_index) ||
      !Read(j, "has_last_key", &c.has_last_key) ||
      !Read(j, "last_key_hex", &hex) ||
      !Read(j, "items_migrated", &i.items_migrated) ||
      !Read(j, "items_skipped", &i.items_skipped) ||
      !Read(j, "items_restored", &c.items_restored) ||
      !Read(j, "started_at", &i.started_at) ||
      !ReadOptionalString(j, "error", &i.error) ||
      !Read(j, "target", &c.target) || !Read(j, "backup", &c.backup) ||
      !ReadStrings(j, "migrations", &c.migrations) ||
      !ReadStringMap(j, "checksums", &c.checksums) ||
      !Read(j, "elapsed_ms", &c.elapsed_ms)) {
    return Unreadable(kProgressKey, "a field is missing or mistyped");
  }
  if (i.state != "migrating" && i.state != "rolling_back") {
    return Unreadable(kProgressKey, absl::StrCat("unknown state '", i.state, "'"));
  }
  std::optional<std::string> key = HexDecode(hex);
  if (!key) return Unreadable(kProgressKey, "last_key_hex is not hex");
  i.last_key = std::move(*key);
  return c;
}

MetaStore::MetaStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* backup_cf)
    : db_(db),
      txn_db_(dynamic_cast<rocksdb::TransactionDB*>(db)),
      backup_cf_(backup_cf != nullptr ? backup_cf
                                      : db->DefaultColumnFamily()) {}

absl::StatusOr<std::optional<std::string>> MetaStore::Get(
    std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("reading ", std::string(key)));
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::optional<int>> MetaStore::ReadVersion() const {
  auto value = Get(kSchemaVersionKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<int>();
  const std::string& v = **value;
  int version = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() ||
      version < 0) {
    return Unreadable(kSchemaVersionKey,
                      absl::StrCat("'", PrintableKey(v), "' is not a version"));
  }
  return std::optional<int>(version);
}

absl::StatusOr<std::vector<HistoryEntry>> MetaStore::ReadHistory() const {
  auto value = Get(kHistoryKey);
  if (!value.ok()) return value.status();
  std::vector<HistoryEntry> out;
  if (!value->has_value()) return out;
  json j = json::parse(**value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return Unreadable(kHistoryKey, "not a JSON array");
  }
  for (const auto& e : j) {
    auto entry = HistoryEntryFromJson(e);
    if (!entry.ok()) return entry.status();
    out.push_back(std::move(*entry));
  }
  return out;
}

absl::StatusOr<std::optional<Cursor>> MetaStore::ReadCursor() const {
  auto value = Get(kProgressKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Cursor>();
  json j = json::parse(**value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Unreadable(kProgressKey, "not JSON");
  auto c = CursorFromJson(j);
  if (!c.ok()) return c.status();
  return std::optional<Cursor>(std::move(*c));
}

absl::StatusOr<bool> MetaStore::HasUserRecords(
    const std::vector<std::string>& prefixes) const {
  for (const std::string& prefix : prefixes) {
    for (const KeyRange& range : UserRanges(prefix)) {
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper;
      if (range.end) {
        upper = rocksdb::Slice(*range.end);
        ro.iterate_upper_bound = &upper;
      }
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
      it->Seek(range.begin);
      if (it->Valid()) return true;
      if (!it->status().ok()) {
        return FromRocksDb(it->status(),
                           absl::StrCat("scanning prefix '",
                                        PrintableKey(prefix), "'"));
      }
    }
  }
  return false;
}

void MetaStore::PutVersion(rocksdb::WriteBatch* batch, int version) const {
  batch->Put(kSchemaVersionKey, std::to_string(version));
}

void MetaStore::PutHistory(rocksdb::WriteBatch* batch,
                           const std::vector<HistoryEntry>& history) const {
  json j = json::array();
  for (const auto& e : history) j.push_back(ToJson(e));
  batch->Put(kHistoryKey, DumpMetadata(j));
}

void MetaStore::PutCursor(rocksdb::WriteBatch* batch,
                          const Cursor& cursor) const {
  batch->Put(kProgressKey, DumpMetadata(ToJson(cursor)));
}

void MetaStore::DeleteCursor(rocksdb::WriteBatch* batch) const {
  batch->Delete(kProgressKey);
}

absl::Status MetaStore::Commit(rocksdb::WriteBatch* batch,
                               std::string_view what) const {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  wo.disableWAL = false;
  rocksdb::Status s;
  if (txn_db_ != nullptr) {
    rocksdb::TransactionDBWriteOptimizations opt;
    opt.skip_concurrency_control = true;
    s = txn_db_->Write(wo, opt, batch);
  } else {
    s = db_->Write(wo, batch);
  }
  return FromRocksDb(s, what);
}

void UpsertHistory(std::vector<HistoryEntry>* history,
                   const HistoryEntry& entry) {
  for (auto& e : *history) {
    if (e.run_id == entry.run_id && e.from == entry.from && e.to == entry.to) {
      e = entry;
      return;
    }
  }
  history->push_back(entry);
}

}  // namespace rocksmigrate
