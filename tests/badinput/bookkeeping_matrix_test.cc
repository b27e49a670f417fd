// The corrupted-bookkeeping matrix (SPEC §8.12): every reserved key, damaged
// in each way a bad restore or a stray `ldb put` can damage it, met by every
// entry point (status, migrate, rollback, dry run, validate, the startup
// call, abandon). Each cell is one of:
//   refused   FailedPrecondition or DataLoss, the message names the damaged
//             key (or backup), and the database holds exactly the bytes it
//             held before, every key included; where the cell lists them
//             (`says`), the message also names the damaged field and says
//             what to do;
//   ok        the call succeeds and leaves a consistent database: no run in
//             flight, every record at the version its prefix should carry,
//             the version the history's newest standing entry says.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/startup.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace testing {
namespace {

constexpr char kBackup1[] = "_backup_20261127_050102";
constexpr char kBackup2[] = "_backup_20261127_050102_2";
// The down pass's own backup (Base::kDownInFlight).
constexpr char kBackup3[] = "_backup_20261127_050102_3";
constexpr char kEntry1[] = "_migration_history:00000000000000000001";
constexpr char kEntry2[] = "_migration_history:00000000000000000002";
constexpr int kRecords = 30;

// Adds `field`; raises `*stop` (a stop request, as a signal would) when it
// transforms `stop_key`. With `with_down`, its down removes `field` again.
class StoppingAddField : public JsonMigration {
 public:
  StoppingAddField(int from, std::string field, std::string stop_key,
                   std::atomic<bool>* stop, bool with_down)
      : JsonMigration(from, from + 1, absl::StrCat("add_", field), "task:"),
        field_(std::move(field)),
        stop_key_(std::move(stop_key)),
        stop_(stop),
        with_down_(with_down) {}
  absl::Status Transform(std::string_view key, Json& record) const override {
    if (key == stop_key_) *stop_ = true;
    record[field_] = 1;
    return absl::OkStatus();
  }
  bool has_down() const override { return with_down_; }
  absl::Status DownTransform(std::string_view, Json& record) const override {
    record.erase(field_);
    return absl::OkStatus();
  }

 private:
  std::string field_;
  std::string stop_key_;
  std::atomic<bool>* stop_;
  bool with_down_;
};

enum class Base {
  kApplied,      // Migrated to v3: two steps, two backups, two entries.
  kInFlight,     // At v2, step v2 -> v3 stopped after a few batches.
  kRollingBack,  // At v3, a rollback to v1 stopped inside step v3 -> v2.
  // At v3, a rollback to v1 by the down transforms stopped at the first
  // batch of the down pass of step v2 -> v3 (its own backup: kBackup3; the
  // step's kBackup2 stays).
  kDownInFlight,
};

// The two steps every cell's database went through (or is going through);
// with their downs for a database whose down pass is in flight (without
// them elsewhere, so that a rollback there needs the backups).
struct Registry {
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  explicit Registry(Base base) {
    const bool with_down = base == Base::kDownInFlight;
    EXPECT_THAT(r.Register(std::make_unique<StoppingAddField>(
                    1, "a", "task:none", &stop, with_down)),
                IsOk());
    EXPECT_THAT(r.Register(std::make_unique<StoppingAddField>(
                    2, "b", "task:012", &stop, with_down)),
                IsOk());
  }
};

MigratorOptions Options(const ManualClock& clock, std::atomic<bool>* stop) {
  MigratorOptions o = SmallBatches(4, 1);
  o.clock = clock.fn();
  o.stop_requested = stop;
  return o;
}

void MakeBase(TestDb* db, Base base) {
  Dump records;
  for (int i = 0; i < kRecords; ++i) {
    records[absl::StrFormat("task:%03d", i)] =
        absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  records["other:1"] = "not json, not migrated";
  db->Put(records);
  Registry reg(base);
  ManualClock clock;
  std::atomic<bool> never{false};
  if (base == Base::kInFlight) {
    ASSERT_THAT(MakeMigrator(db->db(), &reg.r, Options(clock, &never))
                    ->Migrate(2),
                IsOk());
    auto m = MakeMigrator(db->db(), &reg.r, Options(clock, &reg.stop));
    ASSERT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kCancelled));
    return;
  }
  ASSERT_THAT(
      MakeMigrator(db->db(), &reg.r, Options(clock, &never))->Migrate(),
      IsOk());
  if (base == Base::kRollingBack) {
    std::atomic<bool> stop{false};
    MigratorOptions o = Options(clock, &stop);
    o.on_progress = [&stop](const Progress& p) {
      if (p.phase == Progress::Phase::kRollingBack) stop = true;
    };
    auto m = MakeMigrator(db->db(), &reg.r, o);
    ASSERT_THAT(m->Rollback(1), StatusIs(absl::StatusCode::kCancelled));
  }
  if (base == Base::kDownInFlight) {
    std::atomic<bool> stop{true};  // Seen at the first batch boundary.
    auto m = MakeMigrator(db->db(), &reg.r, Options(clock, &stop));
    ASSERT_THAT(m->Rollback(1, RollbackMethod::kDown),
                StatusIs(absl::StatusCode::kCancelled));
    auto state = m->Inspect();
    ASSERT_THAT(state, IsOk());
    ASSERT_TRUE(state->in_flight && state->in_flight->down);
    ASSERT_EQ(state->in_flight->backup_id, kBackup3);
  }
}

std::string Get(TestDb* db, const std::string& key) {
  std::string v;
  EXPECT_TRUE(db->db()->Get(rocksdb::ReadOptions(), key, &v).ok()) << key;
  return v;
}

// Edits one field of the JSON value at `key`.
std::function<void(TestDb*)> EditJson(
    std::string key, std::function<void(nlohmann::json&)> edit) {
  return [key, edit](TestDb* db) {
    nlohmann::json j = nlohmann::json::parse(Get(db, key));
    edit(j);
    db->Put(key, j.dump());
  };
}
std::function<void(TestDb*)> Set(std::string key, std::string value) {
  return [key, value](TestDb* db) { db->Put(key, value); };
}
std::function<void(TestDb*)> Remove(std::string key) {
  return [key](TestDb* db) { db->Delete(key); };
}

enum class Op { kStatus, kMigrate, kRollback, kDryRun, kValidate, kStartup,
                kAbandon };
const char* Name(Op op) {
  switch (op) {
    case Op::kStatus: return "status";
    case Op::kMigrate: return "migrate";
    case Op::kRollback: return "rollback";
    case Op::kDryRun: return "dry run";
    case Op::kValidate: return "validate";
    case Op::kStartup: return "startup";
    case Op::kAbandon: return "abandon";
  }
  return "?";
}
const std::vector<Op> kAllOps = {Op::kStatus, Op::kMigrate, Op::kRollback,
                                 Op::kDryRun, Op::kValidate, Op::kStartup,
                                 Op::kAbandon};

enum class Expect { kRefused, kOk };

struct Cell {
  Cell(std::string n, Base b, std::function<void(TestDb*)> d, std::string what,
       Expect e = Expect::kRefused, std::vector<Op> ex = {})
      : name(std::move(n)), base(b), damage(std::move(d)),
        names(std::move(what)), all(e), exceptions(std::move(ex)) {}
  std::string name;
  Base base;
  std::function<void(TestDb*)> damage;
  // What a refusal must name.
  std::string names;
  // The expectation for every operation, unless `ok` lists it.
  Expect all = Expect::kRefused;
  std::vector<Op> exceptions;  // Ops with the other expectation.
  // More a refusal's message must say (the field, the way out).
  std::vector<std::string> says;
};

// `cell`, whose refusals must also say each of `says`.
Cell Saying(Cell cell, std::vector<std::string> says) {
  cell.says = std::move(says);
  return cell;
}

void PrintTo(const Cell& c, std::ostream* os) { *os << c.name; }

std::vector<Cell> Cells() {
  std::vector<Cell> cells;
  auto add = [&](Cell c) { cells.push_back(std::move(c)); };
  (void)add;
  const std::vector<Op> only_rollback = {Op::kRollback};
  // Ops that never read backups of an applied database.
  const std::vector<Op> not_rollback = {Op::kStatus, Op::kMigrate,
                                        Op::kDryRun, Op::kValidate,
                                        Op::kStartup};

  // _schema_version.
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", std::string("\xff\x00x", 3)},
           {"wrong type", "\"3\""},
           {"out of range", "2000000000"},
           {"negative", "-1"},
           {"leading zero", "03"},
           {"inconsistent with the history", "2"}}) {
    add(Cell{"version " + name, Base::kApplied, Set("_schema_version", value),
         "_schema_version"});
  }
  add(Cell{"version missing", Base::kApplied, Remove("_schema_version"),
       "_schema_version"});
  add(Cell{"version moved under a run in flight", Base::kInFlight,
       Set("_schema_version", "3"), "_schema_version"});
  // The history header.
  add(Cell{"history header garbage", Base::kApplied,
       Set("_migration_history", "\x01garbage"), "_migration_history"});
  add(Cell{"history header wrong type", Base::kApplied,
       Set("_migration_history", "\"x\""), "_migration_history"});
  add(Cell{"history header count out of range", Base::kApplied,
       Set("_migration_history", R"({"count":5,"format":2})"),
       "_migration_history"});
  add(Cell{"history header missing", Base::kApplied, Remove("_migration_history"),
       "_migration_history"});
  // History entries: the newest is read by every call, an older one by the
  // calls that need it.
  add(Cell{"newest entry garbage", Base::kApplied, Set(kEntry2, "{{"), kEntry2});
  add(Cell{"newest entry wrong type", Base::kApplied, Set(kEntry2, "[]"), kEntry2});
  add(Cell{"newest entry unknown status", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) { j["status"] = "weird"; }),
       kEntry2});
  add(Cell{"newest entry step out of range", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) { j["to"] = 4; }), kEntry2});
  add(Cell{"newest entry unknown field", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) { j["extra"] = 1; }), kEntry2});
  add(Cell{"newest entry unknown mode", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) { j["mode"] = "sideways"; }),
       kEntry2});
  add(Cell{"newest entry lists more kept keys than it kept", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) {
         j["items_kept"] = 0;
         j["kept_keys_hex"] = {"7461736b3a31"};
       }),
       kEntry2});
  add(Cell{"newest entry down flag mistyped", Base::kApplied,
       EditJson(kEntry2, [](nlohmann::json& j) { j["down"] = 1; }), kEntry2});
  // "down" marks only a down pass's outcomes (rolled_back, failed, aborted).
  for (std::string status : {"success", "stamped", "interrupted"}) {
    add(Saying(Cell{"newest entry " + status + " claims a down pass",
                    Base::kApplied,
                    EditJson(kEntry2,
                             [status](nlohmann::json& j) {
                               j["status"] = status;
                               j["down"] = true;
                             }),
                    kEntry2},
               {"field \"down\" is true", "field \"status\" is '" + status,
                "put back the field that was"}));
  }
  add(Cell{"oldest entry garbage", Base::kApplied, Set(kEntry1, "{{"), kEntry1,
       Expect::kRefused, {Op::kMigrate, Op::kDryRun, Op::kStartup}});
  add(Saying(Cell{"oldest entry success claims a down pass", Base::kApplied,
                  EditJson(kEntry1, [](nlohmann::json& j) { j["down"] = true; }),
                  kEntry1, Expect::kRefused,
                  {Op::kMigrate, Op::kDryRun, Op::kStartup}},
             {"field \"down\" is true", "put back the field that was"}));
  add(Cell{"oldest entry missing (a gap)", Base::kApplied, Remove(kEntry1),
       "_migration_history"});
  // A backup manifest and its records: only a rollback reads them.
  add(Cell{"manifest garbage", Base::kApplied, Set(kBackup2, "{not json"),
       kBackup2, Expect::kOk, only_rollback});
  add(Cell{"manifest wrong type", Base::kApplied, Set(kBackup2, "7"), kBackup2,
       Expect::kOk, only_rollback});
  add(Cell{"manifest item count inconsistent", Base::kApplied,
       EditJson(kBackup2, [](nlohmann::json& j) { j["item_count"] = 999; }),
       kBackup2, Expect::kOk, only_rollback});
  add(Cell{"manifest names another id", Base::kApplied,
       EditJson(kBackup2, [](nlohmann::json& j) { j["id"] = kBackup1; }),
       kBackup2, Expect::kOk, only_rollback});
  add(Cell{"manifest missing", Base::kApplied, Remove(kBackup2), kBackup2,
       Expect::kOk, only_rollback});
  add(Cell{"manifest down flag a string", Base::kApplied,
       EditJson(kBackup2, [](nlohmann::json& j) { j["down"] = "yes"; }),
       kBackup2, Expect::kOk, only_rollback});
  add(Cell{"manifest down flag a number", Base::kApplied,
       EditJson(kBackup2, [](nlohmann::json& j) { j["down"] = 1; }), kBackup2,
       Expect::kOk, only_rollback});
  // The history names it as the step's backup (the records at v2); a down
  // pass's backup holds them at v3, so restoring it would not undo the step.
  add(Cell{"manifest of a step claims a down pass", Base::kApplied,
       EditJson(kBackup2, [](nlohmann::json& j) { j["down"] = true; }),
       kBackup2, Expect::kOk, only_rollback});
  // The manifest relabelled to another step: the history and it disagree
  // on whose records it holds.
  for (auto [name, from] : std::vector<std::pair<std::string, int>>{
           {"the step below", 1}, {"a step above", 3}}) {
    add(Saying(Cell{"manifest relabelled to " + name, Base::kApplied,
                    EditJson(kBackup2,
                             [from = from](nlohmann::json& j) {
                               j["from"] = from;
                               j["to"] = from + 1;
                             }),
                    kBackup2, Expect::kOk, only_rollback},
               {"fields \"from\" and \"to\"", kEntry2,
                "put back the one that was (the step's manifest says "
                "\"from\": 2, \"to\": 3)"}));
  }
  // The newest entry names the step below's backup (same run, same count):
  // restoring it would put step v2 -> v3's records back at v1.
  add(Saying(Cell{"newest entry names the step below's backup", Base::kApplied,
                  EditJson(kEntry2,
                           [](nlohmann::json& j) { j["backup_id"] = kBackup1; }),
                  kBackup1, Expect::kOk, only_rollback},
             {"fields \"from\" and \"to\"", kEntry2,
              "field \"backup_id\"", "put back the one that was"}));
  add(Cell{"backup record missing", Base::kApplied,
       Remove(absl::StrCat(kBackup2, ":task:007")), kBackup2, Expect::kOk,
       only_rollback});
  add(Cell{"backup record outside the prefixes", Base::kApplied,
       Set(absl::StrCat(kBackup2, ":zzz"), "x"), kBackup2, Expect::kOk,
       only_rollback});
  // The lock is informational: replaced by the next migrator.
  add(Cell{"lock garbage", Base::kApplied, Set("_migration_lock", "\xff"), "",
       Expect::kOk, {}});
  // A cursor where no run is in flight.
  add(Cell{"stray cursor garbage", Base::kApplied,
       Set("_migration_progress", "garbage"), "_migration_progress"});

  // The cursor of a run in flight.
  // The manifest of the backup a run in flight writes, relabelled to step
  // v1 -> v2: the cursor no longer matches it.
  auto relabelled_in_flight = [](const std::string& name, Base base,
                                 const std::string& manifest) {
    return Saying(Cell{name, base,
                       EditJson(manifest,
                                [](nlohmann::json& j) {
                                  j["from"] = 1;
                                  j["to"] = 2;
                                }),
                       "_migration_progress"},
                  {"fields \"run_id\", \"from\" and \"to\"",
                   "put back the one that was"});
  };
  auto cursor = [](std::function<void(nlohmann::json&)> edit) {
    return EditJson("_migration_progress", std::move(edit));
  };
  add(Cell{"cursor garbage", Base::kInFlight,
       Set("_migration_progress", std::string("\x00\x01", 2)), "_migration_progress"});
  add(Cell{"cursor wrong type", Base::kInFlight, Set("_migration_progress", "[]"),
       "_migration_progress"});
  add(Cell{"cursor prefix index out of range", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["prefix_index"] = 99; }),
       "_migration_progress"});
  add(Cell{"cursor unknown state", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["state"] = "frobbing"; }),
       "_migration_progress"});
  add(Cell{"cursor backup id of another step", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["backup_id"] = kBackup1; }),
       "_migration_progress"});
  add(Cell{"cursor backup id of no backup", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["backup_id"] = "_backup_20200101_000000"; }),
       "_migration_progress"});
  add(Cell{"cursor last key past the prefix", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["last_key_hex"] = "7a7a7a"; }),
       "_migration_progress"});
  add(Cell{"cursor field missing", Base::kInFlight,
       cursor([](nlohmann::json& j) { j.erase("run_id"); }),
       "_migration_progress"});
  add(Cell{"cursor counts restored records while migrating", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["items_restored"] = 5; }),
       "_migration_progress"});
  add(Cell{"cursor unknown field", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["surprise"] = true; }),
       "_migration_progress"});
  add(Cell{"cursor unknown mode", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["mode"] = "sideways"; }),
       "_migration_progress"});
  add(Cell{"cursor kept count negative", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["items_kept"] = -1; }),
       "_migration_progress"});
  add(Cell{"cursor kept key not hex", Base::kInFlight,
       cursor([](nlohmann::json& j) {
         j["items_kept"] = 1;
         j["kept_keys_hex"] = {"zz"};
       }),
       "_migration_progress"});
  add(Cell{"cursor rate mistyped", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["records_per_second"] = "fast"; }),
       "_migration_progress"});
  add(Cell{"cursor pacing mistyped", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["pacing"] = 3; }),
       "_migration_progress"});
  add(Cell{"cursor rollback method unknown", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["rollback_using"] = "sideways"; }),
       "_migration_progress"});
  add(Cell{"cursor down flag mistyped", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["down"] = "yes"; }),
       "_migration_progress"});
  // A step in flight made to claim it is a down pass: the database is not
  // at the step's `to`, and its backup is not a down pass's.
  add(Cell{"cursor claims a down pass", Base::kInFlight,
       cursor([](nlohmann::json& j) { j["down"] = true; }),
       "_migration_progress"});
  add(Cell{"in-flight manifest missing", Base::kInFlight, Remove(kBackup2),
       "_migration_progress"});
  add(Cell{"in-flight manifest down flag mistyped", Base::kInFlight,
       EditJson(kBackup2, [](nlohmann::json& j) { j["down"] = "yes"; }),
       kBackup2});
  // The cursor (and the version, at the step's `from`) say a step is in
  // flight, its manifest that it is a down pass's backup.
  add(Cell{"in-flight manifest claims a down pass", Base::kInFlight,
       EditJson(kBackup2, [](nlohmann::json& j) { j["down"] = true; }),
       "_migration_progress"});
  // The manifest of the step in flight relabelled to the step before.
  add(relabelled_in_flight("in-flight manifest relabelled", Base::kInFlight, kBackup2));
  // A forgotten run: the records it migrated stay; migrating again skips
  // them (JSON records carry their version), a rollback restores from the
  // step before.
  add(Cell{"cursor missing", Base::kInFlight, Remove("_migration_progress"), "",
       Expect::kOk, {Op::kAbandon}});
  // A backup record the restore would need: only restores refuse.
  add(Cell{"in-flight backup record missing", Base::kInFlight,
       Remove(absl::StrCat(kBackup2, ":task:001")), kBackup2, Expect::kOk,
       {Op::kRollback, Op::kAbandon}});
  // The cursor of a rollback in flight.
  add(Cell{"rollback cursor state without reason", Base::kRollingBack,
       cursor([](nlohmann::json& j) { j["state"] = "migrating"; }),
       "_migration_progress"});
  add(Cell{"rollback cursor reason changed", Base::kRollingBack,
       cursor([](nlohmann::json& j) { j["reason"] = "abandon"; }),
       "_migration_progress"});
  add(Cell{"rollback cursor target above its step", Base::kRollingBack,
       cursor([](nlohmann::json& j) { j["rollback_target"] = 5; }),
       "_migration_progress"});
  add(Cell{"rollback cursor counts more restored and kept than backed up",
       Base::kRollingBack,
       cursor([](nlohmann::json& j) { j["items_kept"] = 100000; }),
       "_migration_progress"});
  add(Cell{"rollback version moved", Base::kRollingBack,
       Set("_schema_version", "1"), "_schema_version"});
  add(relabelled_in_flight("rollback manifest relabelled", Base::kRollingBack, kBackup2));
  add(Cell{"rollback backup record missing", Base::kRollingBack,
       Remove(absl::StrCat(kBackup2, ":task:020")), kBackup2, Expect::kOk,
       {Op::kMigrate, Op::kRollback, Op::kDryRun, Op::kStartup,
        Op::kAbandon}});
  // The cursor of a down pass in flight and its own backup.
  add(Cell{"down pass manifest down flag mistyped", Base::kDownInFlight,
       EditJson(kBackup3, [](nlohmann::json& j) { j["down"] = 1; }), kBackup3});
  add(Cell{"down pass manifest without its down flag", Base::kDownInFlight,
       EditJson(kBackup3, [](nlohmann::json& j) { j.erase("down"); }),
       "_migration_progress"});
  add(relabelled_in_flight("down pass manifest relabelled", Base::kDownInFlight, kBackup3));
  add(Cell{"down pass cursor names the step's backup", Base::kDownInFlight,
       cursor([](nlohmann::json& j) { j["backup_id"] = kBackup2; }),
       "_migration_progress"});
  add(Cell{"down pass cursor without its down flag", Base::kDownInFlight,
       cursor([](nlohmann::json& j) { j.erase("down"); }),
       "_migration_progress"});
  return cells;
}

// The database is consistent: no run in flight, every task record at the
// stored version, and that version the history's newest standing entry.
std::string Inconsistency(const Dump& all) {
  if (all.count("_migration_progress") > 0) return "a run is in flight";
  auto v = all.find("_schema_version");
  const int version = v == all.end() ? 1 : std::stoi(v->second);
  for (const auto& [k, value] : all) {
    if (k.rfind("task:", 0) != 0) continue;
    nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_object() || j["schema_version"] != version) {
      return absl::StrCat(k, " is not at v", version, ": ", value);
    }
  }
  nlohmann::json h = RawHistory(all);
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    if ((*it)["status"] == "success" || (*it)["status"] == "stamped") {
      if ((*it)["to"] != version) {
        return absl::StrCat("the history says v", (*it)["to"].dump(),
                            ", the version is ", version);
      }
      break;
    }
  }
  return "";
}

class BookkeepingMatrixTest : public ::testing::TestWithParam<Cell> {};

TEST_P(BookkeepingMatrixTest, EveryEntryPointRefusesOrRecovers) {
  const Cell& cell = GetParam();
  for (Op op : kAllOps) {
    if (op == Op::kAbandon && cell.base == Base::kApplied) continue;
    SCOPED_TRACE(Name(op));
    TempDir dir;
    auto db = TestDb::Open(dir.Sub("db"));
    ASSERT_NO_FATAL_FAILURE(MakeBase(db.get(), cell.base));
    const Dump pristine = db->DumpAll();
    cell.damage(db.get());
    ASSERT_NE(db->DumpAll(), pristine) << "the damage changed nothing";
    const Dump before = db->DumpAll();
    Registry reg(cell.base);
    MigratorOptions o = SmallBatches(4, 1);
    auto m = MakeMigrator(db->db(), &reg.r, o);
    absl::Status s;
    switch (op) {
      case Op::kStatus: {
        auto state = m->Inspect();
        s = state.ok() ? state->bookkeeping_status : state.status();
        break;
      }
      case Op::kMigrate:
        s = m->Migrate().status();
        break;
      case Op::kRollback:
        s = m->Rollback(1).status();
        break;
      case Op::kDryRun:
        s = m->DryRun().status();
        break;
      case Op::kValidate:
        s = m->Validate().status();
        break;
      case Op::kStartup:
        s = MigrateOnStartup(db->db(), reg.r, o);
        break;
      case Op::kAbandon:
        s = m->Abandon().status();
        break;
    }
    const bool listed = std::find(cell.exceptions.begin(), cell.exceptions.end(),
                                  op) != cell.exceptions.end();
    const Expect expect = listed ? (cell.all == Expect::kOk ? Expect::kRefused
                                                            : Expect::kOk)
                                 : cell.all;
    const Dump after = db->DumpAll();
    if (std::getenv("RM_MATRIX_VERBOSE") != nullptr) {
      std::fprintf(stderr, "[matrix] %-45s %-9s %s\n", cell.name.c_str(),
                   Name(op), s.ToString().substr(0, 150).c_str());
    }
    if (expect == Expect::kRefused) {
      EXPECT_TRUE(absl::IsFailedPrecondition(s) || absl::IsDataLoss(s)) << s;
      EXPECT_TRUE(absl::StrContains(s.message(), cell.names)) << s;
      for (const std::string& said : cell.says) {
        EXPECT_TRUE(absl::StrContains(s.message(), said))
            << "does not say: " << said << "\n" << s;
      }
      // A tool finds the key or backup in the status itself.
      const StatusSubject subject = SubjectOf(s);
      EXPECT_TRUE(subject.bookkeeping_key == cell.names ||
                  subject.backup_id == cell.names ||
                  absl::StrContains(s.message(), "nothing was changed"))
          << s;
      EXPECT_EQ(after, before) << DescribeDiff(before, after);
      continue;
    }
    // A restore found in flight is finished, and the call says so.
    const bool finished_restore =
        absl::IsAborted(s) && cell.base == Base::kRollingBack &&
        (op == Op::kMigrate || op == Op::kStartup);
    EXPECT_TRUE(s.ok() || finished_restore) << s;
    if (op == Op::kStatus || op == Op::kDryRun || op == Op::kValidate) {
      EXPECT_EQ(after, before) << DescribeDiff(before, after);
    } else {
      EXPECT_EQ(Inconsistency(after), "");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, BookkeepingMatrixTest,
                         ::testing::ValuesIn(Cells()),
                         [](const ::testing::TestParamInfo<Cell>& info) {
                           std::string n;
                           for (char c : info.param.name) {
                             n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
                           }
                           return n;
                         });

}  // namespace
}  // namespace testing
}  // namespace rocksmigrate
