#include "src/metadata.h"

#include <charconv>
#include <limits>
#include <set>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "src/json_parse.h"
#include "src/keys.h"
#include "src/rocksdb_status.h"
#include "src/step_state.h"

namespace rocksmigrate {
namespace {

using nlohmann::json;

constexpr char kKeyPayload[] = "type.rocksmigrate/bookkeeping_key";
constexpr uint64_t kMaxCount = std::numeric_limits<int64_t>::max();

// Reads the fields of one bookkeeping object strictly: each getter fails on
// a missing (unless optional) or mistyped field; Finish() fails on a field
// nobody asked for. The first problem is kept.
class FieldReader {
 public:
  FieldReader(const json& j, std::string_view key) : j_(j), key_(key) {
    if (!j.is_object()) problem_ = "not a JSON object";
  }

  bool String(const char* name, std::string* out, bool optional = false) {
    const json* v = Find(name, optional);
    if (v == nullptr) return ok();
    if (!v->is_string()) return Bad(name, "is not a string");
    *out = v->get<std::string>();
    return true;
  }
  bool OptionalString(const char* name, std::optional<std::string>* out) {
    const json* v = Find(name, /*optional=*/true);
    out->reset();
    if (v == nullptr || v->is_null()) return ok();
    if (!v->is_string()) return Bad(name, "is not a string or null");
    *out = v->get<std::string>();
    return true;
  }
  bool Bool(const char* name, bool* out) {
    const json* v = Find(name, false);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Bad(name, "is not true or false");
    *out = v->get<bool>();
    return true;
  }
  // A field written only when true: absent reads as false.
  bool OptionalBool(const char* name, bool* out) {
    const json* v = Find(name, /*optional=*/true);
    *out = false;
    if (v == nullptr) return ok();
    if (!v->is_boolean()) return Bad(name, "is not true or false");
    *out = v->get<bool>();
    return true;
  }
  // An integer in [min, max].
  template <typename T>
  bool Int(const char* name, T* out, int64_t min, uint64_t max,
           bool optional = false) {
    const json* v = Find(name, optional);
    if (v == nullptr) return ok();
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (min > 0 && u < static_cast<uint64_t>(min)) return Range(name, v);
      if (u > max) return Range(name, v);
      *out = static_cast<T>(u);
      return true;
    }
    if (v->is_number_integer()) {
      const int64_t i = v->get<int64_t>();
      if (i < min || (i >= 0 && static_cast<uint64_t>(i) > max)) {
        return Range(name, v);
      }
      *out = static_cast<T>(i);
      return true;
    }
    return Bad(name, "is not an integer");
  }
  bool Strings(const char* name, std::vector<std::string>* out,
               bool optional = false) {
    const json* v = Find(name, optional);
    out->clear();
    if (v == nullptr) return ok();
    if (!v->is_array()) return Bad(name, "is not an array of strings");
    for (const json& e : *v) {
      if (!e.is_string()) return Bad(name, "is not an array of strings");
      out->push_back(e.get<std::string>());
    }
    return true;
  }
  bool StringMap(const char* name, std::map<std::string, std::string>* out) {
    const json* v = Find(name, /*optional=*/true);
    out->clear();
    if (v == nullptr) return ok();
    if (!v->is_object()) return Bad(name, "is not an object of strings");
    for (const auto& [k, e] : v->items()) {
      if (!e.is_string()) return Bad(name, "is not an object of strings");
      (*out)[k] = e.get<std::string>();
    }
    return true;
  }
  // Marks a field as known without reading it (a field older versions
  // wrote and this one ignores).
  void Ignore(const char* name) { asked_.insert(name); }

  // Records a problem found by the caller.
  bool Fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
    return false;
  }

  absl::Status Finish() {
    if (problem_.empty() && j_.is_object()) {
      for (const auto& [k, v] : j_.items()) {
        if (asked_.count(k) == 0) {
          problem_ = absl::StrCat("unknown field \"", PrintableKey(k), "\"");
          break;
        }
      }
    }
    if (problem_.empty()) return absl::OkStatus();
    return BookkeepingError(key_, problem_);
  }

  bool ok() const { return problem_.empty(); }

 private:
  const json* Find(const char* name, bool optional) {
    asked_.insert(name);
    if (!problem_.empty()) return nullptr;
    auto it = j_.find(name);
    if (it == j_.end()) {
      if (!optional) Fail(absl::StrCat("field \"", name, "\" is missing"));
      return nullptr;
    }
    return &*it;
  }
  bool Bad(const char* name, const char* what) {
    return Fail(absl::StrCat("field \"", name, "\" ", what));
  }
  bool Range(const char* name, const json* v) {
    return Fail(absl::StrCat("field \"", name, "\" is out of range (",
                             v->dump(), ")"));
  }

  const json& j_;
  std::string key_;
  std::set<std::string> asked_;
  std::string problem_;
};

// Parses bookkeeping bytes exactly (depth, duplicates, numbers).
absl::StatusOr<json> ParseBookkeeping(std::string_view bytes,
                                      std::string_view key) {
  json j;
  absl::Status s = ParseJsonExactly(bytes, &j);
  if (!s.ok()) return BookkeepingError(key, std::string(s.message()));
  return j;
}

// Key prefixes are bytes; JSON strings must be UTF-8. Stored as hex.
std::vector<std::string> HexAll(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const std::string& r : raw) out.push_back(HexEncode(r));
  return out;
}
bool UnhexAll(const std::vector<std::string>& hex,
              std::vector<std::string>* out) {
  out->clear();
  for (const std::string& h : hex) {
    std::optional<std::string> r = HexDecode(h);
    if (!r) return false;
    out->push_back(std::move(*r));
  }
  return true;
}

json OptionalString(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

// The optional fields "mode", "items_kept" and "kept_keys_hex" of a cursor
// or history entry (absent in what earlier versions wrote: offline, none).
void ReadModeAndKept(FieldReader& r, RunMode* mode, uint64_t* kept,
                     std::vector<std::string>* kept_keys) {
  std::string text = "offline";
  r.String("mode", &text, /*optional=*/true);
  std::optional<RunMode> parsed = ParseRunMode(text);
  if (r.ok() && !parsed) {
    r.Fail(absl::StrCat("field \"mode\": '", PrintableKey(text),
                        "' is not a run mode (offline or online)"));
  } else if (parsed) {
    *mode = *parsed;
  }
  r.Int("items_kept", kept, 0, kMaxCount, /*optional=*/true);
  std::vector<std::string> hex;
  if (r.Strings("kept_keys_hex", &hex, /*optional=*/true) &&
      !UnhexAll(hex, kept_keys)) {
    r.Fail("field \"kept_keys_hex\" holds a string that is not hex");
  }
  if (r.ok() && kept_keys->size() > *kept) {
    r.Fail("field \"kept_keys_hex\" lists more keys than \"items_kept\"");
  }
}

}  // namespace

absl::Status BookkeepingError(std::string_view key, std::string_view why) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "bookkeeping key ", PrintableKey(key), " cannot be trusted: ",
      std::string(why), "; nothing was written"));
  s.SetPayload(kKeyPayload, absl::Cord(std::string(key)));
  return s;
}

std::string BookkeepingKeyOf(const absl::Status& status) {
  auto key = status.GetPayload(kKeyPayload);
  return key ? std::string(*key) : std::string();
}

std::string FormatIsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseIsoTime(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", text, absl::UTCTimeZone(), &t,
                       &err)) {
    return std::nullopt;
  }
  return t;
}

std::string DumpMetadata(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false,
                json::error_handler_t::replace);
}

std::string EncodeVersion(int version) { return std::to_string(version); }

absl::StatusOr<int> DecodeVersion(std::string_view v) {
  int version = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  const bool leading_zero = v.size() > 1 && v[0] == '0';
  if (v.empty() || v[0] == '-' || v[0] == '+' || leading_zero ||
      ec != std::errc() || ptr != v.data() + v.size() || version < 0 ||
      version > kMaxVersion) {
    return BookkeepingError(
        kSchemaVersionKey,
        absl::StrCat("'", PrintableKey(v.substr(0, 64)),
                     v.size() > 64 ? "..." : "",
                     "' is not a version (a decimal number from 0 to ",
                     kMaxVersion, ")"));
  }
  return version;
}

json HistoryEntryToJson(const HistoryEntry& e) {
  json j{{"run_id", e.run_id},
         {"from", e.from},
         {"to", e.to},
         {"migrations", e.migrations},
         {"status", std::string(ToString(e.status))},
         {"items_migrated", e.items_migrated},
         {"items_skipped", e.items_skipped},
         {"items_ahead", e.items_ahead},
         {"started_at", e.started_at},
         {"duration_ms", e.duration_ms},
         {"backup_id", OptionalString(e.backup_id)},
         {"error", OptionalString(e.error)},
         {"checksums", e.checksums},
         {"empty_prefixes_hex", HexAll(e.empty_prefixes)}};
  if (e.mode != RunMode::kOffline) j["mode"] = ToString(e.mode);
  if (e.items_kept > 0 || !e.kept_keys.empty()) {
    j["items_kept"] = e.items_kept;
    j["kept_keys_hex"] = HexAll(e.kept_keys);
  }
  if (!e.backup_column_family.empty()) {
    j["backup_column_family"] = e.backup_column_family;
  }
  if (e.down) j["down"] = true;
  return j;
}

std::string EncodeHistoryEntry(const HistoryEntry& e) {
  return DumpMetadata(HistoryEntryToJson(e));
}

absl::StatusOr<HistoryEntry> HistoryEntryFromJson(const json& j,
                                                  std::string_view key) {
  HistoryEntry e;
  FieldReader r(j, key);
  std::string status;
  r.String("run_id", &e.run_id);
  r.Int("from", &e.from, 0, kMaxVersion);
  r.Int("to", &e.to, 0, kMaxVersion);
  r.Strings("migrations", &e.migrations);
  r.String("status", &status);
  r.Int("items_migrated", &e.items_migrated, 0, kMaxCount);
  r.Int("items_skipped", &e.items_skipped, 0, kMaxCount);
  r.Int("items_ahead", &e.items_ahead, 0, kMaxCount, /*optional=*/true);
  r.String("started_at", &e.started_at);
  r.Int("duration_ms", &e.duration_ms, 0, kMaxCount);
  r.OptionalString("backup_id", &e.backup_id);
  r.String("backup_column_family", &e.backup_column_family,
           /*optional=*/true);
  r.OptionalString("error", &e.error);
  r.StringMap("checksums", &e.checksums);
  std::vector<std::string> empty_hex;
  if (r.Strings("empty_prefixes_hex", &empty_hex, /*optional=*/true) &&
      !UnhexAll(empty_hex, &e.empty_prefixes)) {
    r.Fail("field \"empty_prefixes_hex\" holds a string that is not hex");
  }
  ReadModeAndKept(r, &e.mode, &e.items_kept, &e.kept_keys);
  r.OptionalBool("down", &e.down);
  if (r.ok()) {
    std::optional<StepStatus> parsed = ParseStepStatus(status);
    if (!parsed) {
      r.Fail(absl::StrCat("field \"status\": '", PrintableKey(status),
                          "' is not a step status"));
    } else {
      e.status = *parsed;
    }
  }
  // Only the outcomes of a down pass carry "down": a step it undid
  // (rolled_back), or a pass that did not finish (failed, aborted). A
  // success or stamp marked "down" says the step is both applied and undone;
  // believing either half would migrate, roll back or redo the wrong records.
  if (r.ok() && e.down && e.status != StepStatus::kRolledBack &&
      e.status != StepStatus::kFailed && e.status != StepStatus::kAborted) {
    r.Fail(absl::StrCat(
        "field \"down\" is true, the mark of a down pass, but field \"status\" "
        "is '", status, "' (only a rolled_back, failed or aborted entry "
        "records a down pass); the entry was changed since it was written: "
        "put back the field that was (a ", status, " entry has no \"down\")"));
  }
  if (r.ok() && e.run_id.empty()) r.Fail("field \"run_id\" is empty");
  if (r.ok() && e.status != StepStatus::kStamped && e.to != e.from + 1) {
    r.Fail(absl::StrCat("a step must go up by one version (from ", e.from,
                        ", to ", e.to, ")"));
  }
  if (r.ok() && e.backup_id && !IsBackupId(*e.backup_id)) {
    r.Fail(absl::StrCat("field \"backup_id\": '", PrintableKey(*e.backup_id),
                        "' is not a backup id"));
  }
  if (r.ok() && e.items_ahead > e.items_skipped) {
    r.Fail("field \"items_ahead\" exceeds \"items_skipped\"");
  }
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return e;
}

absl::StatusOr<HistoryEntry> DecodeHistoryEntry(std::string_view bytes,
                                                std::string_view key) {
  absl::StatusOr<json> j = ParseBookkeeping(bytes, key);
  if (!j.ok()) return j.status();
  return HistoryEntryFromJson(*j, key);
}

std::string EncodeManifest(const BackupInfo& b) {
  json j{{"id", b.id},
         {"from", b.from},
         {"to", b.to},
         {"created_at", b.created_at},
         {"prefixes_hex", HexAll(b.prefixes)},
         {"item_count", b.item_count},
         {"complete", b.complete},
         {"run_id", b.run_id}};
  if (b.down) j["down"] = true;
  return DumpMetadata(j);
}

absl::StatusOr<BackupInfo> DecodeManifest(std::string_view bytes,
                                          std::string_view id) {
  absl::StatusOr<json> j = ParseBookkeeping(bytes, id);
  if (!j.ok()) return j.status();
  BackupInfo b;
  FieldReader r(*j, id);
  r.String("id", &b.id);
  r.Int("from", &b.from, 0, kMaxVersion);
  r.Int("to", &b.to, 0, kMaxVersion);
  r.String("created_at", &b.created_at);
  if (j->is_object() && j->contains("prefixes")) {
    r.Strings("prefixes", &b.prefixes);  // Written by earlier versions.
  } else {
    std::vector<std::string> hex;
    if (r.Strings("prefixes_hex", &hex) && !UnhexAll(hex, &b.prefixes)) {
      r.Fail("field \"prefixes_hex\" holds a string that is not hex");
    }
  }
  r.Int("item_count", &b.item_count, 0, kMaxCount);
  r.Bool("complete", &b.complete);
  r.String("run_id", &b.run_id);
  r.OptionalBool("down", &b.down);
  if (r.ok() && b.id != id) {
    r.Fail(absl::StrCat("field \"id\" names ", PrintableKey(b.id),
                        ", not its own key"));
  }
  if (r.ok() && b.to != b.from + 1) {
    r.Fail(absl::StrCat("a step must go up by one version (from ", b.from,
                        ", to ", b.to, ")"));
  }
  if (r.ok() && b.run_id.empty()) r.Fail("field \"run_id\" is empty");
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return b;
}

std::string EncodeCursor(const Cursor& c) {
  const InFlight& i = c.info;
  json j{{"run_id", i.run_id},
         {"state", std::string(ToString(i.state))},
         {"reason", std::string(ToString(i.reason))},
         {"from", i.from},
         {"to", i.to},
         {"backup_id", OptionalString(i.backup_id)},
         {"backup_column_family", i.backup_column_family},
         {"prefix_hex", HexEncode(i.prefix)},
         {"prefix_index", c.prefix_index},
         {"has_last_key", c.has_last_key},
         {"last_key_hex", HexEncode(i.last_key)},
         {"items_migrated", i.items_migrated},
         {"items_skipped", i.items_skipped},
         {"items_ahead", i.items_ahead},
         {"items_restored", i.items_restored},
         {"started_at", i.started_at},
         {"error", OptionalString(i.error)},
         {"rollback_target", i.rollback_target ? json(*i.rollback_target)
                                               : json(nullptr)},
         {"backup", c.backup},
         {"migrations", c.migrations},
         {"checksums", c.checksums},
         {"elapsed_ms", c.elapsed_ms},
         {"history_seq", c.history_seq},
         {"empty_prefixes_hex", HexAll(c.empty_prefixes)},
         {"mode", ToString(i.mode)},
         {"items_kept", i.items_kept},
         {"kept_keys_hex", HexAll(i.kept_keys)},
         {"updated_at", i.updated_at},
         {"records_per_second", i.records_per_second},
         {"items_total_estimate", i.items_total_estimate},
         {"pacing", i.pacing}};
  if (i.down) j["down"] = true;
  if (i.rollback_using != RollbackMethod::kAuto) {
    j["rollback_using"] = ToString(i.rollback_using);
  }
  return DumpMetadata(j);
}

absl::StatusOr<Cursor> DecodeCursor(std::string_view bytes) {
  absl::StatusOr<json> parsed = ParseBookkeeping(bytes, kProgressKey);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  Cursor c;
  InFlight& i = c.info;
  FieldReader r(j, kProgressKey);
  std::string state, reason, hex;
  r.String("run_id", &i.run_id);
  r.String("state", &state);
  r.String("reason", &reason);
  r.Int("from", &i.from, 0, kMaxVersion - 1);
  r.Int("to", &i.to, 1, kMaxVersion);
  r.OptionalString("backup_id", &i.backup_id);
  r.String("backup_column_family", &i.backup_column_family, true);
  std::string prefix_hex;
  if (j.is_object() && j.contains("prefix")) {
    r.String("prefix", &i.prefix);  // Written by earlier versions.
  } else if (r.String("prefix_hex", &prefix_hex)) {
    std::optional<std::string> prefix = HexDecode(prefix_hex);
    if (!prefix) {
      r.Fail("field \"prefix_hex\" is not hex");
    } else {
      i.prefix = std::move(*prefix);
    }
  }
  r.Int("prefix_index", &c.prefix_index, 0, 1 << 20);
  r.Bool("has_last_key", &c.has_last_key);
  r.String("last_key_hex", &hex);
  r.Int("items_migrated", &i.items_migrated, 0, kMaxCount);
  r.Int("items_skipped", &i.items_skipped, 0, kMaxCount);
  r.Int("items_ahead", &i.items_ahead, 0, kMaxCount, true);
  r.Int("items_restored", &i.items_restored, 0, kMaxCount);
  r.String("started_at", &i.started_at);
  r.OptionalString("error", &i.error);
  r.Bool("backup", &c.backup);
  r.Strings("migrations", &c.migrations);
  r.StringMap("checksums", &c.checksums);
  r.Int("elapsed_ms", &c.elapsed_ms, 0, kMaxCount);
  r.Int("history_seq", &c.history_seq, 0, kMaxCount, true);
  r.Ignore("target");  // Written by earlier versions; never read.
  std::vector<std::string> empty_hex;
  if (r.Strings("empty_prefixes_hex", &empty_hex, /*optional=*/true) &&
      !UnhexAll(empty_hex, &c.empty_prefixes)) {
    r.Fail("field \"empty_prefixes_hex\" holds a string that is not hex");
  }
  ReadModeAndKept(r, &i.mode, &i.items_kept, &i.kept_keys);
  r.String("updated_at", &i.updated_at, true);
  r.Int("records_per_second", &i.records_per_second, 0, kMaxCount, true);
  r.Int("items_total_estimate", &i.items_total_estimate, 0, kMaxCount, true);
  r.String("pacing", &i.pacing, true);
  r.OptionalBool("down", &i.down);
  std::string method = "auto";
  r.String("rollback_using", &method, true);
  if (r.ok()) {
    std::optional<RollbackMethod> m = ParseRollbackMethod(method);
    if (!m) {
      r.Fail(absl::StrCat("field \"rollback_using\": '", PrintableKey(method),
                          "' is not auto, backup or down"));
    } else {
      i.rollback_using = *m;
    }
  }
  if (r.ok() && i.down && !c.backup) {
    r.Fail("a down pass always has a backup, but \"backup\" is false");
  }
  if (r.ok()) {
    auto it = j.find("rollback_target");
    if (it != j.end() && !it->is_null()) {
      int target = 0;
      if (r.Int("rollback_target", &target, 0, kMaxVersion)) {
        i.rollback_target = target;
      }
    } else {
      r.Ignore("rollback_target");
    }
  }
  std::optional<StepState> st = ParseStepState(state);
  std::optional<RestoreReason> re = ParseRestoreReason(reason);
  if (r.ok() && !st) {
    r.Fail(absl::StrCat("field \"state\": '", PrintableKey(state),
                        "' is not a step state"));
  }
  if (r.ok() && !re) {
    r.Fail(absl::StrCat("field \"reason\": '", PrintableKey(reason),
                        "' is not a restore reason"));
  }
  if (r.ok()) {
    i.state = *st;
    i.reason = *re;
    if ((i.state == StepState::kMigrating) != (i.reason == RestoreReason::kNone)) {
      r.Fail(absl::StrCat("state '", state, "' does not go with reason '",
                          reason, "'"));
    }
  }
  if (r.ok() && i.to != i.from + 1) {
    r.Fail(absl::StrCat("a step must go up by one version (from ", i.from,
                        ", to ", i.to, ")"));
  }
  if (r.ok() && i.run_id.empty()) r.Fail("field \"run_id\" is empty");
  if (r.ok() && c.migrations.empty()) r.Fail("field \"migrations\" is empty");
  if (r.ok() && c.backup != i.backup_id.has_value()) {
    r.Fail(c.backup ? "the run has backups but no \"backup_id\""
                    : "the run has no backups but a \"backup_id\"");
  }
  if (r.ok() && i.backup_id && !IsBackupId(*i.backup_id)) {
    r.Fail(absl::StrCat("field \"backup_id\": '", PrintableKey(*i.backup_id),
                        "' is not a backup id"));
  }
  if (r.ok() && i.state == StepState::kRollingBack && !c.backup) {
    r.Fail("a restore needs a backup");
  }
  if (r.ok() && i.rollback_target &&
      ((i.reason != RestoreReason::kRollback &&
        !(i.down && i.state == StepState::kMigrating)) ||
       *i.rollback_target > i.from)) {
    r.Fail(absl::StrCat("field \"rollback_target\" (", *i.rollback_target,
                        ") does not go with a ", reason.empty() ? "migrating" : reason,
                        " step from v", i.from));
  }
  if (r.ok() && i.items_ahead > i.items_skipped) {
    r.Fail("field \"items_ahead\" exceeds \"items_skipped\"");
  }
  if (r.ok() && !c.has_last_key && !hex.empty()) {
    r.Fail("field \"last_key_hex\" is set but \"has_last_key\" is false");
  }
  if (r.ok()) {
    std::optional<std::string> key = HexDecode(hex);
    if (!key) {
      r.Fail("field \"last_key_hex\" is not hex");
    } else {
      i.last_key = std::move(*key);
    }
  }
  absl::Status s = r.Finish();
  if (!s.ok()) return s;
  return c;
}

MetaStore::MetaStore(rocksdb::DB* db)
    : db_(db), txn_db_(dynamic_cast<rocksdb::TransactionDB*>(db)) {}

absl::StatusOr<std::optional<std::string>> MetaStore::Get(
    std::string_view key, rocksdb::ColumnFamilyHandle* cf) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(),
               cf != nullptr ? cf : db_->DefaultColumnFamily(),
               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) {
    return FromRocksDb(s, absl::StrCat("reading ", PrintableKey(key)));
  }
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::optional<int>> MetaStore::ReadVersion() const {
  auto value = Get(kSchemaVersionKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<int>();
  absl::StatusOr<int> v = DecodeVersion(**value);
  if (!v.ok()) return v.status();
  return std::optional<int>(*v);
}

absl::StatusOr<std::optional<Cursor>> MetaStore::ReadCursor() const {
  auto value = Get(kProgressKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Cursor>();
  absl::StatusOr<Cursor> c = DecodeCursor(**value);
  if (!c.ok()) return c.status();
  return std::optional<Cursor>(std::move(*c));
}

absl::StatusOr<bool> MetaStore::HasRecordsUnder(std::string_view prefix) const {
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
      return FromRocksDb(it->status(), absl::StrCat("scanning prefix '",
                                                    PrintableKey(prefix), "'"));
    }
  }
  return false;
}

absl::StatusOr<bool> MetaStore::HasUserRecords() const {
  return HasRecordsUnder("");
}

void MetaStore::PutVersion(rocksdb::WriteBatch* batch, int version) const {
  batch->Put(kSchemaVersionKey, EncodeVersion(version));
}

void MetaStore::PutCursor(rocksdb::WriteBatch* batch,
                          const Cursor& cursor) const {
  batch->Put(kProgressKey, EncodeCursor(cursor));
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

}  // namespace rocksmigrate
