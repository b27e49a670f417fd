#include "tests/fault/fault_model.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "nlohmann/json.hpp"
#include "rocksdb/options.h"
#include "tests/testutil/history_dump.h"

namespace rocksmigrate {
namespace fault {
namespace {

using nlohmann::json;
using ::rocksmigrate::testing::RawHistory;

// "v<N>|rest" -> (N, rest); nullopt if not of that form.
std::optional<std::pair<int, std::string_view>> ParseVersioned(
    std::string_view value) {
  if (value.size() < 3 || value[0] != 'v') return std::nullopt;
  size_t bar = value.find('|');
  if (bar == std::string_view::npos || bar < 2 || bar > 4) return std::nullopt;
  int n = 0;
  for (size_t i = 1; i < bar; ++i) {
    if (value[i] < '0' || value[i] > '9') return std::nullopt;
    n = n * 10 + (value[i] - '0');
  }
  return std::make_pair(n, value.substr(bar + 1));
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The model's own statement of the rules (kept apart from TagMigration on
// purpose): the prefixes each step touches and what it does to one value.
std::vector<std::string> StepPrefixes(int from) {
  switch (from) {
    case 1: return {"task:"};
    case 2: return {"task:", "note:"};
    case 3: return {"note:"};
    default: return {};
  }
}

// nullopt: deleted. REQUIRES: the value is well formed (the datasets are).
std::optional<std::string> ModelApply(int from, const std::string& value) {
  const int to = from + 1;
  if (from == 1 && StartsWith(value, "del|")) return std::nullopt;
  size_t bar = value.find('|');
  int n = std::atoi(value.substr(1, bar - 1).c_str());
  if (n >= to) return value;
  return "v" + std::to_string(to) + value.substr(bar) + "|s" +
         std::to_string(to);
}

bool IsManifestKey(const std::string& k) {
  // _backup_YYYYMMDD_HHMMSS[_N], no ':'.
  return StartsWith(k, "_backup_") && k.find(':') == std::string::npos;
}

// The suite's databases live on /dev/shm when it is writable: crash and
// power-loss durability is modelled by the suite itself (a SIGKILL keeps
// the page cache; FaultFs drops what was not synced), so real fsyncs only
// cost time. RM_FAULT_REAL_TMPDIR=1 keeps $TMPDIR. Children inherit it.
const bool kTmpdirChosen = [] {
  if (std::getenv("RM_FAULT_REAL_TMPDIR") == nullptr &&
      ::access("/dev/shm", W_OK) == 0) {
    ::setenv("TMPDIR", "/dev/shm", 1);
  }
  return true;
}();

}  // namespace

TagMigration::TagMigration(int from, std::string prefix, bool deletes)
    : from_(from),
      prefix_(std::move(prefix)),
      deletes_(deletes),
      name_(absl::StrCat(prefix_.substr(0, prefix_.size() - 1), "_v", from_,
                         "_to_v", from_ + 1)) {}

absl::StatusOr<ItemResult> TagMigration::Migrate(std::string_view key,
                                                 std::string_view value) const {
  if (StartsWith(value, "BAD")) {
    return absl::InvalidArgumentError("record marked BAD");
  }
  if (deletes_ && StartsWith(value, "del|")) return ItemResult::Delete();
  auto parsed = ParseVersioned(value);
  if (!parsed) return absl::InvalidArgumentError("not a versioned record");
  if (parsed->first >= to()) return ItemResult::Keep();
  return ItemResult::Write(absl::StrCat("v", to(), "|",
                                        std::string(parsed->second), "|s",
                                        to()));
}

std::unique_ptr<MigrationRegistry> MakeRegistry() {
  auto r = std::make_unique<MigrationRegistry>();
  CHECK(r->Register(std::make_unique<TagMigration>(1, "task:", true)).ok());
  CHECK(r->Register(std::make_unique<TagMigration>(2, "task:", false)).ok());
  CHECK(r->Register(std::make_unique<TagMigration>(2, "note:", false)).ok());
  CHECK(r->Register(std::make_unique<TagMigration>(3, "note:", false)).ok());
  return r;
}

Dump MakeDataset(uint64_t seed, const DatasetSpec& spec) {
  std::mt19937_64 rng(seed);
  static const char* const kWords[] = {
      "\"status\":", "\"open\",", "\"priority\":", "\"owner\":",
      "\"user-", "\"tags\":[", "\"docs\",", "\"urgent\"],",
      "\"title\":", "\"review the ", "quarterly report\",", "release ",
      "notes\",", "\"estimate\":", "12,", "\"created_at\":"};
  auto payload = [&](int len) {
    std::string p;
    p.reserve(len);
    if (spec.compressible) {
      while (static_cast<int>(p.size()) < len) p += kWords[rng() % 16];
      p.resize(len);
      return p;
    }
    p.assign(len, '\0');
    for (char& c : p) c = static_cast<char>(rng() & 0xFF);
    return p;
  };
  auto len = [&] {
    return spec.min_payload +
           static_cast<int>(rng() % (spec.max_payload - spec.min_payload + 1));
  };
  std::uniform_real_distribution<double> u(0, 1);
  Dump d;
  for (int i = 0; i < spec.tasks; ++i) {
    std::string head = "v1|";
    double x = u(rng);
    if (x < spec.deleted) {
      head = "del|";
    } else if (x < spec.deleted + spec.already_v2) {
      head = "v2|";
    }
    d[absl::StrFormat("task:%06d", i)] = head + payload(len());
  }
  for (int i = 0; i < spec.notes; ++i) {
    d[absl::StrFormat("note:%06d", i)] =
        (u(rng) < 0.1 ? "v3|" : "v1|") + payload(len());
  }
  for (int i = 0; i < spec.others; ++i) {
    d[absl::StrFormat("user:%06d", i)] = payload(len());
  }
  for (int i = 0; i < spec.big && spec.tasks > 0; ++i) {
    d[absl::StrFormat("task:%06d", static_cast<int>(rng() % spec.tasks))] =
        "v1|" + payload(spec.big_payload);
  }
  return d;
}

Model::Model(Dump v1) {
  states_.resize(kNewest + 1);
  states_[kBaseline] = std::move(v1);
  for (int from = kBaseline; from < kNewest; ++from) {
    Dump next;
    std::vector<std::string> prefixes = StepPrefixes(from);
    for (const auto& [k, v] : states_[from]) {
      bool touched = false;
      for (const std::string& p : prefixes) touched |= StartsWith(k, p);
      if (!touched) {
        next[k] = v;
        continue;
      }
      std::optional<std::string> nv = ModelApply(from, v);
      if (nv) next[k] = *nv;
    }
    states_[from + 1] = std::move(next);
  }
}

bool Model::Changes(int from, const std::string& key) const {
  auto a = states_.at(from).find(key);
  const Dump& after = states_.at(from + 1);
  auto b = after.find(key);
  if (a == states_.at(from).end()) return false;
  return b == after.end() || a->second != b->second;
}

Dump UserRecords(const Dump& all) {
  Dump out;
  for (const auto& [k, v] : all) {
    if (k.empty() || k[0] != '_') out[k] = v;
  }
  return out;
}

int StoredVersion(const Dump& all) {
  auto it = all.find("_schema_version");
  return it == all.end() ? kBaseline : std::atoi(it->second.c_str());
}

bool InFlight(const Dump& all) { return all.count("_migration_progress") > 0; }

std::string CheckInvariant(const Dump& all, const Model& model,
                           bool allow_pruned) {
  std::string errors;
  auto fail = [&errors](const std::string& e) {
    if (errors.size() < 4000) absl::StrAppend(&errors, e, "\n");
  };
  const int version = StoredVersion(all);
  if (version < kBaseline || version > kNewest) {
    return absl::StrCat("_schema_version out of range: ", version, "\n");
  }
  const Dump user = UserRecords(all);

  // The run in flight.
  std::optional<int> f, t;
  std::string state, reason, cursor_backup;
  auto cur = all.find("_migration_progress");
  if (cur != all.end()) {
    json j = json::parse(cur->second, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j["from"].is_number() || !j["to"].is_number() ||
        !j["state"].is_string()) {
      return "unreadable _migration_progress: " + cur->second + "\n";
    }
    f = j["from"].get<int>();
    t = j["to"].get<int>();
    state = j["state"].get<std::string>();
    if (j["reason"].is_string()) reason = j["reason"].get<std::string>();
    if (j["backup_id"].is_string()) cursor_backup = j["backup_id"];
    if (*f < kBaseline || *t != *f + 1 || *t > kNewest) {
      return "cursor names an impossible step: " + cur->second + "\n";
    }
    // Migrating or restoring after an item error: the step was never
    // finished, the version is still f. Rolling back on request: t while
    // undoing a finished step, f while undoing the step a crash left
    // unfinished (the history then has no success entry for it).
    const bool either = state == "rolling_back" && reason == "rollback";
    if (version != *f && !(either && version == *t)) {
      fail(absl::StrCat("_schema_version is ", version, " while the run in "
                        "flight (", state, "/", reason, ") is in step ", *f,
                        "->", *t));
    }
  }

  // User records.
  std::string cursor_prefix, last_key;
  bool has_last_key = false;
  if (f) {
    json j = json::parse(cur->second, nullptr, false);
    if (j["prefix_hex"].is_string()) {
      std::string hex = j["prefix_hex"];
      for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        cursor_prefix.push_back(static_cast<char>(
            std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
    }
    if (j["has_last_key"].is_boolean()) has_last_key = j["has_last_key"];
    if (j["last_key_hex"].is_string()) {
      std::string hex = j["last_key_hex"];
      for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        last_key.push_back(static_cast<char>(
            std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
    }
  }
  if (!f) {
    if (user != model.At(version)) {
      fail("user records differ from the model at v" +
           std::to_string(version) + ":\n" +
           ::rocksmigrate::testing::DescribeDiff(model.At(version), user));
    }
  } else {
    const Dump& before = model.At(*f);
    const Dump& after = model.At(*t);
    std::set<std::string> keys;
    for (const auto& kv : before) keys.insert(kv.first);
    for (const auto& kv : after) keys.insert(kv.first);
    for (const auto& kv : user) keys.insert(kv.first);
    for (const std::string& k : keys) {
      auto a = user.find(k);
      auto b = before.find(k);
      auto c = after.find(k);
      bool as_before = (a == user.end()) == (b == before.end()) &&
                       (a == user.end() || a->second == b->second);
      bool as_after = (a == user.end()) == (c == after.end()) &&
                      (a == user.end() || a->second == c->second);
      if (!as_before && !as_after) {
        fail(absl::StrCat("record ", k, " holds neither its v", *f,
                          " nor its v", *t, " bytes (",
                          a == user.end() ? "absent" : "present", ")"));
        continue;
      }
      if (as_before && as_after) continue;  // The step does not change it.
      // The cursor says exactly which records are done: a committed batch
      // is wholly there, an uncommitted one wholly absent, none skipped.
      bool done_by_cursor;
      if (state == "migrating") {
        if (StartsWith(k, cursor_prefix) && !cursor_prefix.empty()) {
          done_by_cursor = has_last_key && k <= last_key;
        } else {
          continue;  // Another prefix of the step: checked wholesale below.
        }
        if (as_after != done_by_cursor) {
          fail(absl::StrCat("record ", k, " is ",
                            as_after ? "migrated" : "not migrated",
                            " but the cursor (prefix ", cursor_prefix,
                            ", last key ", has_last_key ? last_key : "none",
                            ") says otherwise"));
        }
      } else {  // rolling_back: restored up to last_key in key order.
        done_by_cursor = has_last_key && k <= last_key;
        if (done_by_cursor && !as_before) {
          fail(absl::StrCat("record ", k, " is before the restore cursor "
                            "but not restored"));
        }
      }
    }
    if (state == "migrating") {
      // A prefix of the step other than the cursor's is wholly before or
      // wholly after the step.
      for (const std::string& p : StepPrefixes(*f)) {
        if (p == cursor_prefix) continue;
        int done = 0, todo = 0;
        for (const auto& [k, v] : before) {
          if (!StartsWith(k, p) || !model.Changes(*f, k)) continue;
          auto a = user.find(k);
          auto c = after.find(k);
          bool as_after = (a == user.end()) == (c == after.end()) &&
                          (a == user.end() || a->second == c->second);
          (as_after ? done : todo)++;
        }
        if (done > 0 && todo > 0) {
          fail(absl::StrCat("prefix ", p, " is partly migrated (", done,
                            " done, ", todo, " not) while the cursor is in "
                            "prefix ", cursor_prefix));
        }
      }
    }
  }

  // Backups: manifests and records.
  std::map<std::string, std::pair<int, bool>> manifests;  // id -> from, complete
  for (const auto& [k, v] : all) {
    if (!IsManifestKey(k)) continue;
    json j = json::parse(v, nullptr, false);
    if (!j.is_object() || !j["from"].is_number() || !j["complete"].is_boolean()) {
      fail("unreadable manifest " + k);
      continue;
    }
    manifests[k] = {j["from"].get<int>(), j["complete"].get<bool>()};
    if (!j["complete"].get<bool>() && k != cursor_backup) {
      fail("incomplete manifest " + k + " belongs to no run in flight");
    }
  }
  // step from -> key -> number of backups holding it.
  std::map<int, std::map<std::string, int>> backed_up;
  for (const auto& [k, v] : all) {
    if (!StartsWith(k, "_backup_")) continue;
    size_t colon = k.find(':');
    if (colon == std::string::npos) continue;
    const std::string id = k.substr(0, colon);
    const std::string key = k.substr(colon + 1);
    auto m = manifests.find(id);
    if (m == manifests.end()) {
      fail("backup record " + k + " has no manifest");
      continue;
    }
    const int from = m->second.first;
    ++backed_up[from][key];
    auto orig = model.At(from).find(key);
    if (orig == model.At(from).end() || orig->second != v) {
      fail(absl::StrCat("backup record ", k, " does not hold the bytes of ",
                        key, " before step ", from, "->", from + 1));
    }
    if (!model.Changes(from, key)) {
      fail(absl::StrCat("backup record ", k, " for a record step ", from,
                        " does not change"));
    }
  }
  std::set<int> steps_with_manifest;
  for (const auto& [id, m] : manifests) steps_with_manifest.insert(m.first);
  for (int from = kBaseline; from < kNewest; ++from) {
    const bool applied = from + 1 <= version && !(f && *f == from) &&
                         !(allow_pruned && !steps_with_manifest.count(from));
    const bool in_flight = f && *f == from;
    for (const auto& [key, value] : model.At(from)) {
      if (!model.Changes(from, key)) continue;
      int n = backed_up[from].count(key) ? backed_up[from][key] : 0;
      if (applied && n != 1) {
        fail(absl::StrCat("record ", key, " changed by applied step ", from,
                          "->", from + 1, " has ", n, " backups"));
      }
      if (in_flight) {
        auto a = user.find(key);
        auto c = model.At(from + 1).find(key);
        bool migrated = (a == user.end()) == (c == model.At(from + 1).end()) &&
                        (a == user.end() || a->second == c->second);
        if (migrated && n != 1) {
          fail(absl::StrCat("migrated record ", key, " of step ", from, "->",
                            from + 1, " in flight has ", n, " backups"));
        }
        // While migrating, a batch's backups and new values commit in one
        // write: an unmigrated record has no backup. While restoring, a
        // restored record keeps its backup until the step is recorded.
        const size_t most = state == "migrating" ? 0 : 1;
        if (!migrated && n > static_cast<int>(most)) {
          fail(absl::StrCat("unmigrated record ", key, " of step ", from,
                            "->", from + 1, " in flight (", state, ") has ", n,
                            " backups"));
        }
      }
    }
  }

  // History: a success entry for exactly the applied steps.
  std::map<int, bool> success;
  if (all.count("_migration_history") > 0) {
    json j = RawHistory(all);
    if (!j.is_array()) {
      fail("unreadable _migration_history");
    } else {
      for (const json& e : j) {
        if (e.is_object() && e["status"] == "success" && e["from"].is_number()) {
          success[e["from"].get<int>()] = true;
        }
      }
    }
  }
  for (int from = kBaseline; from < kNewest; ++from) {
    const bool applied = from + 1 <= version;
    if (applied != success[from]) {
      fail(absl::StrCat("history ", success[from] ? "has" : "lacks",
                        " a success entry for step ", from, "->", from + 1,
                        " at v", version));
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FaultDb>> FaultDb::Open(
    const std::string& path, const OpenOptions& open) {
  rocksdb::Options options;
  options.create_if_missing = open.create_if_missing;
  options.allow_fallocate = open.allow_fallocate;
  if (open.env != nullptr) options.env = open.env;
  rocksdb::TransactionDBOptions txn_options;
  txn_options.transaction_lock_timeout = open.lock_timeout_ms;
  rocksdb::TransactionDB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::TransactionDB::Open(options, txn_options, path, &raw);
  if (!s.ok()) {
    return absl::InternalError("opening " + path + ": " + s.ToString());
  }
  auto out = std::unique_ptr<FaultDb>(new FaultDb);
  out->db_.reset(raw);
  return out;
}

FaultDb::~FaultDb() {
  if (db_) db_->Close().PermitUncheckedError();
}

Dump FaultDb::DumpAll() const {
  Dump d;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    d[it->key().ToString()] = it->value().ToString();
  }
  CHECK(it->status().ok()) << it->status().ToString();
  return d;
}

void FaultDb::Put(const Dump& records) {
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : records) CHECK(wb.Put(k, v).ok());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &wb);
  CHECK(s.ok()) << s.ToString();
}

void FaultDb::Flush() {
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions());
  CHECK(s.ok()) << s.ToString();
}

Dump ReadDb(const std::string& path) {
  OpenOptions o;
  o.create_if_missing = false;
  auto db = FaultDb::Open(path, o);
  CHECK(db.ok()) << db.status();
  return (*db)->DumpAll();
}

void CreateDb(const std::string& path, const Dump& records) {
  auto db = FaultDb::Open(path);
  CHECK(db.ok()) << db.status();
  (*db)->Put(records);
  (*db)->Flush();
}

uint64_t TestSeed(uint64_t salt) {
  static const uint64_t base = [] {
    const char* s = std::getenv("RM_FAULT_SEED");
    if (s != nullptr && std::string(s) == "random") {
      return static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count() %
          1000000007);
    }
    return s != nullptr ? static_cast<uint64_t>(std::strtoull(s, nullptr, 10))
                        : uint64_t{20240601};
  }();
  const uint64_t seed = base * 1000003ULL + salt;
  std::fprintf(stderr, "[fault] seed: RM_FAULT_SEED=%llu (salt %llu) -> %llu\n",
               static_cast<unsigned long long>(base),
               static_cast<unsigned long long>(salt),
               static_cast<unsigned long long>(seed));
  return seed;
}

bool LongCampaign() {
  const char* s = std::getenv("RM_LONG_CAMPAIGN");
  return s != nullptr && std::string(s) == "1";
}

}  // namespace fault
}  // namespace rocksmigrate
