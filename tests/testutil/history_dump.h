// The history as the tests read it out of a dump, in either layout: one key
// per entry under `_migration_history:` with a header in
// `_migration_history`, or (databases written before) one JSON array in
// `_migration_history`. Independent of the code under test.
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_HISTORY_DUMP_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_HISTORY_DUMP_H_

#include <string>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace testing {

inline constexpr char kHistoryHeaderKey[] = "_migration_history";
inline constexpr char kHistoryEntryKeyPrefix[] = "_migration_history:";

inline bool IsHistoryKey(const std::string& key) {
  return key == kHistoryHeaderKey || key.rfind(kHistoryEntryKeyPrefix, 0) == 0;
}

// The entries, oldest first (an empty array when there is no history).
inline nlohmann::json RawHistory(const Dump& dump) {
  nlohmann::json out = nlohmann::json::array();
  auto header = dump.find(kHistoryHeaderKey);
  if (header != dump.end()) {
    nlohmann::json h = nlohmann::json::parse(header->second, nullptr, false);
    if (h.is_array()) return h;
  }
  for (auto it = dump.lower_bound(kHistoryEntryKeyPrefix);
       it != dump.end() && it->first.rfind(kHistoryEntryKeyPrefix, 0) == 0;
       ++it) {
    out.push_back(nlohmann::json::parse(it->second, nullptr, false));
  }
  return out;
}

// The entries of a live database (default column family).
inline nlohmann::json HistoryOf(rocksdb::DB* db) {
  Dump dump;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kHistoryHeaderKey);
       it->Valid() && it->key().starts_with(kHistoryHeaderKey); it->Next()) {
    dump[it->key().ToString()] = it->value().ToString();
  }
  return RawHistory(dump);
}

// Every history key of `from` copied into `to` (which loses its own).
inline void CopyHistory(const Dump& from, Dump* to) {
  for (auto it = to->begin(); it != to->end();) {
    it = IsHistoryKey(it->first) ? to->erase(it) : std::next(it);
  }
  for (const auto& [k, v] : from) {
    if (IsHistoryKey(k)) (*to)[k] = v;
  }
}

inline void EraseHistory(Dump* dump) {
  for (auto it = dump->begin(); it != dump->end();) {
    it = IsHistoryKey(it->first) ? dump->erase(it) : std::next(it);
  }
}

// Replaces the history of `dump` with `entries`, in the keyed layout.
inline void SetHistory(Dump* dump, const nlohmann::json& entries) {
  EraseHistory(dump);
  (*dump)[kHistoryHeaderKey] =
      nlohmann::json{{"format", 2}, {"count", entries.size()}}.dump();
  for (size_t i = 0; i < entries.size(); ++i) {
    (*dump)[absl::StrFormat("%s%020u", kHistoryEntryKeyPrefix, i + 1)] =
        entries[i].dump();
  }
}

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_HISTORY_DUMP_H_
