#include "src/history_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_parse.h"
#include "src/keys.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {
namespace {

using nlohmann::json;

constexpr int kFormat = 2;

std::string Header(uint64_t count) {
  return DumpMetadata(json{{"format", kFormat}, {"count", count}});
}

// The end of the entry key range: ';' follows ':'.
std::string EntryRangeEnd() {
  std::string end = kHistoryEntryPrefix;
  end.back() = ';';
  return end;
}

// An iterator over the entry key range.
struct EntryIterator {
  std::string lower = kHistoryEntryPrefix;
  std::string upper = EntryRangeEnd();
  rocksdb::Slice lower_slice{lower};
  rocksdb::Slice upper_slice{upper};
  std::unique_ptr<rocksdb::Iterator> it;
  explicit EntryIterator(rocksdb::DB* db) {
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice;
    ro.iterate_upper_bound = &upper_slice;
    it.reset(db->NewIterator(ro));
  }
};

absl::StatusOr<uint64_t> SeqOf(const rocksdb::Slice& key) {
  std::optional<uint64_t> seq =
      HistoryEntrySeq(std::string_view(key.data(), key.size()));
  if (!seq) {
    return BookkeepingError(key.ToString(),
                            "a key in the history's range that is not a "
                            "history entry key");
  }
  return *seq;
}

}  // namespace

absl::StatusOr<std::vector<HistoryEntry>> HistoryStore::ReadLegacy(
    const std::string& bytes) const {
  json j;
  absl::Status s = ParseJsonExactly(bytes, &j);
  if (!s.ok()) return BookkeepingError(kHistoryKey, std::string(s.message()));
  if (!j.is_array()) {
    return BookkeepingError(kHistoryKey, "neither a history header nor a "
                                         "JSON array of entries");
  }
  std::vector<HistoryEntry> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    absl::StatusOr<HistoryEntry> e = HistoryEntryFromJson(j[i], kHistoryKey);
    if (!e.ok()) {
      return BookkeepingError(kHistoryKey,
                              absl::StrCat("entry ", i + 1, ": ",
                                           e.status().message()));
    }
    e->sequence = i + 1;
    out.push_back(std::move(*e));
  }
  return out;
}

absl::StatusOr<HistoryStore::Layout> HistoryStore::ReadLayout() const {
  absl::StatusOr<std::optional<std::string>> header = meta_->Get(kHistoryKey);
  if (!header.ok()) return header.status();
  EntryIterator ei(meta_->db());
  ei.it->Seek(kHistoryEntryPrefix);
  std::optional<uint64_t> first, last;
  if (ei.it->Valid()) {
    absl::StatusOr<uint64_t> seq = SeqOf(ei.it->key());
    if (!seq.ok()) return seq.status();
    first = *seq;
    ei.it->SeekToLast();
    if (ei.it->Valid()) {
      seq = SeqOf(ei.it->key());
      if (!seq.ok()) return seq.status();
      last = *seq;
    }
  }
  if (!ei.it->status().ok()) {
    return FromRocksDb(ei.it->status(), "reading the history");
  }
  Layout layout;
  if (!header->has_value()) {
    if (first) {
      return BookkeepingError(kHistoryKey,
                              "history entries exist but their header is "
                              "missing");
    }
    return layout;
  }
  json j;
  absl::Status s = ParseJsonExactly(**header, &j);
  if (!s.ok()) return BookkeepingError(kHistoryKey, std::string(s.message()));
  if (j.is_array()) {
    if (first) {
      return BookkeepingError(kHistoryKey,
                              "an old-format history and history entry keys "
                              "both exist");
    }
    absl::StatusOr<std::vector<HistoryEntry>> entries = ReadLegacy(**header);
    if (!entries.ok()) return entries.status();
    layout.legacy = true;
    layout.count = entries->size();
    return layout;
  }
  auto format = j.is_object() ? j.find("format") : j.end();
  auto count = j.is_object() ? j.find("count") : j.end();
  if (!j.is_object() || j.size() != 2 || format == j.end() ||
      *format != kFormat || count == j.end() || !count->is_number_unsigned()) {
    return BookkeepingError(kHistoryKey,
                            "not a history header ({\"format\":2,\"count\":N})");
  }
  layout.count = count->get<uint64_t>();
  const bool matches = layout.count == 0
                           ? !first.has_value()
                           : (first == uint64_t{1} && last == layout.count);
  if (!matches) {
    return BookkeepingError(
        kHistoryKey,
        absl::StrCat("the header counts ", layout.count,
                     " entries but the entry keys run from ",
                     first ? std::to_string(*first) : "(none)", " to ",
                     last ? std::to_string(*last) : "(none)"));
  }
  return layout;
}

absl::Status HistoryStore::ForEach(
    const std::function<bool(const HistoryEntry&)>& fn,
    bool newest_first) const {
  absl::StatusOr<Layout> layout = ReadLayout();
  if (!layout.ok()) return layout.status();
  if (layout->legacy) {
    absl::StatusOr<std::optional<std::string>> bytes = meta_->Get(kHistoryKey);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<std::vector<HistoryEntry>> entries = ReadLegacy(**bytes);
    if (!entries.ok()) return entries.status();
    if (newest_first) {
      for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
        if (!fn(*it)) break;
      }
    } else {
      for (const HistoryEntry& e : *entries) {
        if (!fn(e)) break;
      }
    }
    return absl::OkStatus();
  }
  if (layout->count == 0) return absl::OkStatus();
  EntryIterator ei(meta_->db());
  uint64_t expected = newest_first ? layout->count : 1;
  if (newest_first) {
    ei.it->SeekToLast();
  } else {
    ei.it->Seek(kHistoryEntryPrefix);
  }
  while (ei.it->Valid()) {
    absl::StatusOr<uint64_t> seq = SeqOf(ei.it->key());
    if (!seq.ok()) return seq.status();
    const std::string key = ei.it->key().ToString();
    if (*seq != expected) {
      return BookkeepingError(key, absl::StrCat("history entry ", expected,
                                                " is missing"));
    }
    absl::StatusOr<HistoryEntry> e = DecodeHistoryEntry(
        std::string_view(ei.it->value().data(), ei.it->value().size()), key);
    if (!e.ok()) return e.status();
    e->sequence = *seq;
    if (!fn(*e)) return absl::OkStatus();
    if (newest_first) {
      --expected;
      ei.it->Prev();
    } else {
      ++expected;
      ei.it->Next();
    }
  }
  if (!ei.it->status().ok()) {
    return FromRocksDb(ei.it->status(), "reading the history");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<HistoryEntry>> HistoryStore::Recent(
    size_t n) const {
  std::vector<HistoryEntry> out;
  if (n == 0) return out;
  absl::Status s = ForEach(
      [&](const HistoryEntry& e) {
        out.push_back(e);
        return out.size() < n;
      },
      /*newest_first=*/true);
  if (!s.ok()) return s;
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<HistoryEntry> HistoryStore::Get(uint64_t seq) const {
  const std::string key = HistoryEntryKey(seq);
  absl::StatusOr<std::optional<std::string>> bytes = meta_->Get(key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) {
    return absl::NotFoundError(absl::StrCat("no history entry ", seq));
  }
  absl::StatusOr<HistoryEntry> e = DecodeHistoryEntry(**bytes, key);
  if (!e.ok()) return e.status();
  e->sequence = seq;
  return e;
}

absl::Status HistoryStore::StageConversion(rocksdb::WriteBatch* batch) const {
  absl::StatusOr<std::optional<std::string>> bytes = meta_->Get(kHistoryKey);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return absl::OkStatus();
  absl::StatusOr<std::vector<HistoryEntry>> entries = ReadLegacy(**bytes);
  if (!entries.ok()) return entries.status();
  Writer writer(0);
  for (HistoryEntry& e : *entries) writer.Append(batch, std::move(e));
  return absl::OkStatus();
}

absl::Status HistoryStore::StageRemoveEntry(rocksdb::WriteBatch* batch,
                                          uint64_t seq) const {
  RM_ASSIGN_OR_RETURN(std::optional<std::string> header, meta_->Get(kHistoryKey));
  uint64_t last = seq;
  while (true) {
    RM_ASSIGN_OR_RETURN(std::optional<std::string> next,
                        meta_->Get(HistoryEntryKey(last + 1)));
    if (!next) break;
    batch->Put(HistoryEntryKey(last), *next);
    ++last;
  }
  batch->Delete(HistoryEntryKey(last));
  if (header) batch->Put(kHistoryKey, Header(last - 1));
  return absl::OkStatus();
}

uint64_t HistoryStore::Writer::Append(rocksdb::WriteBatch* batch,
                                      HistoryEntry entry) {
  const uint64_t seq = ++count_;
  batch->Put(HistoryEntryKey(seq), EncodeHistoryEntry(entry));
  batch->Put(kHistoryKey, Header(count_));
  return seq;
}

void HistoryStore::Writer::Put(rocksdb::WriteBatch* batch, uint64_t seq,
                               HistoryEntry entry) {
  batch->Put(HistoryEntryKey(seq), EncodeHistoryEntry(entry));
}

}  // namespace rocksmigrate
