// The migrator's successful runs, checked byte for byte: prefix bounds,
// skips, backups, history, multi-step chains, refusals, empty databases,
// odd values, deletes, stop and resume, progress, threads and the lease.
#include "rocksmigrate/migrator.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/registry.h"
#include "src/fault_point.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::CopyHistory;
using ::rocksmigrate::testing::EraseHistory;
using ::rocksmigrate::testing::SetHistory;
using ::rocksmigrate::testing::AddField;
using ::rocksmigrate::testing::Append;
using ::rocksmigrate::testing::AppendStoppingAt;
using ::rocksmigrate::testing::BackupKey;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::FuncMigration;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::ManualClock;
using ::rocksmigrate::testing::RawHistory;
using ::rocksmigrate::testing::Reserved;
using ::rocksmigrate::testing::SmallBatches;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kId[] = "_backup_20261127_050102";

// `dump` with `suffix` appended to the value of every key in `keys`.
Dump Appended(Dump dump, const std::set<std::string>& keys,
              const std::string& suffix) {
  for (auto& [k, v] : dump) {
    if (keys.count(k) > 0) v += suffix;
  }
  return dump;
}

TEST(MigratorTest, VisitsOnlyKeysUnderThePrefix) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:", "p"},     {"task:1", "a"}, {"task:2", "b"},
                        {"task", "c"},      {"tasks:1", "d"}, {"task;", "e"},
                        {"tas", "f"},       {"note:1", "g"},  {"task:\xff", "h"},
                        {"tASK:1", "i"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(2));
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump expected =
      Appended(records, {"task:", "task:1", "task:2", "task:\xff"}, "+");
  EXPECT_EQ(db->DumpUser(), expected)
      << DescribeDiff(expected, db->DumpUser());
}

TEST(MigratorTest, HandlesBinaryKeysAndFfPrefixes) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  using std::string;
  const Dump records = {
      {string("\xff\xff", 2), "1"},         {string("\xff\xff\x00", 3), "2"},
      {string("\xff\xff\xff\xff", 4), "3"}, {string("\xff\xfe", 2), "4"},
      {string("\xff", 1), "5"},             {string("a\xff", 2), "6"},
      {string("a\xff\x00z", 4), "7"},       {string("a\xff\xff", 3), "8"},
      {string("a\xfe", 2), "9"},            {string("b", 1), "10"},
      {string("k\x00", 2), "11"},           {string("k\x00\x01", 3), "12"},
      {string("k", 1), "13"},               {string("k\x01", 2), "14"},
      {string("\x00", 1), "15"},            {string("k\x00\xff", 3), "16"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, string("\xff\xff", 2), "+")), IsOk());
  ASSERT_THAT(r.Register(Append(1, string("a\xff", 2), "+")), IsOk());
  ASSERT_THAT(r.Register(Append(1, string("k\x00", 2), "+")), IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(2));
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump expected = Appended(
      records,
      {string("\xff\xff", 2), string("\xff\xff\x00", 3),
       string("\xff\xff\xff\xff", 4), string("a\xff", 2),
       string("a\xff\x00z", 4), string("a\xff\xff", 3), string("k\x00", 2),
       string("k\x00\x01", 3), string("k\x00\xff", 3)},
      "+");
  EXPECT_EQ(db->DumpUser(), expected)
      << DescribeDiff(expected, db->DumpUser());
  // Each migrated binary key has its backup.
  auto history = m->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].items_migrated, 9u);
  const Dump all = db->DumpAll();
  for (const auto& [k, v] : expected) {
    if (v == records.at(k)) continue;
    auto it = all.find(BackupKey(*(*history)[0].backup_id, k));
    ASSERT_NE(it, all.end()) << "no backup for " << k;
    EXPECT_EQ(it->second, records.at(k));
  }
}

TEST(MigratorTest, EmptyPrefixNeverVisitsReservedKeys) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  using std::string;
  const Dump records = {{"a", "1"},   {"^x", "2"},  {"`y", "3"},
                        {"z", "4"},   {string("\x00", 1), "5"},
                        {string("\xff", 1), "6"}};
  db->Put(records);
  db->Put({{"_custom", "mine"}, {"_", "u"}, {"_schema_version", "1"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "all", "",
                  [](std::string_view k, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (!k.empty() && k[0] == '_') {
                      return absl::InternalError("visited a reserved key");
                    }
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  auto m = MakeMigrator(db->db(), &r, SmallBatches(2));
  ASSERT_THAT(m->Migrate(), IsOk());
  Dump expected = records;
  for (auto& [k, v] : expected) v += "+";
  EXPECT_EQ(db->DumpUser(), expected)
      << DescribeDiff(expected, db->DumpUser());
  const Dump all = db->DumpAll();
  EXPECT_EQ(all.at("_custom"), "mine");
  EXPECT_EQ(all.at("_"), "u");
  EXPECT_EQ(all.at("_schema_version"), "2");
}

TEST(MigratorTest, SkipsRecordsAlreadyAtTheTargetVersion) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {
      {"task:1", R"({"id":1,"schema_version":1})"},
      {"task:2", R"({"id":2})"},
      {"task:3", R"({"id":3,"schema_version":2,"x":0})"},
      {"task:4", R"({"schema_version":3,"id":4})"},
  };
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 7)),
              IsOk());
  ManualClock clock;
  MigratorOptions o = SmallBatches(1);
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), IsOk());
  const Dump expected_user = {
      {"task:1", R"({"id":1,"schema_version":2,"x":7})"},
      {"task:2", R"({"id":2,"x":7,"schema_version":2})"},
      {"task:3", records.at("task:3")},
      {"task:4", records.at("task:4")},
  };
  EXPECT_EQ(db->DumpUser(), expected_user)
      << DescribeDiff(expected_user, db->DumpUser());
  const Dump all = db->DumpAll();
  EXPECT_EQ(WithPrefix(all, std::string(kId) + ":"),
            (Dump{{BackupKey(kId, "task:1"), records.at("task:1")},
                  {BackupKey(kId, "task:2"), records.at("task:2")}}));
  auto history = m->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].items_migrated, 2u);
  EXPECT_EQ((*history)[0].items_skipped, 2u);
  // task:4 is already past the step: skipped, and counted apart.
  EXPECT_EQ((*history)[0].items_ahead, 1u);
}

TEST(MigratorTest, BacksUpEveryMigratedRecordExactlyOnce) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 25; ++i) {
    records[absl::StrFormat("task:%03d", i)] = absl::StrCat("value ", i);
  }
  records["other:1"] = "untouched";
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ManualClock clock;
  MigratorOptions o = SmallBatches(4, 2);
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());

  // The whole database, key by key.
  const Dump all = db->DumpAll();
  Dump expected;
  for (const auto& [k, v] : records) {
    if (k.rfind("task:", 0) == 0) {
      expected[k] = v + "+";
      expected[BackupKey(kId, k)] = v;
    } else {
      expected[k] = v;
    }
  }
  expected["_schema_version"] = "2";
  ASSERT_EQ(all.count(kId), 1u);
  expected[kId] = all.at(kId);
  ASSERT_EQ(all.count("_migration_history"), 1u);
  CopyHistory(all, &expected);
  EXPECT_EQ(all, expected) << DescribeDiff(expected, all);

  // The manifest.
  auto manifest = nlohmann::json::parse(all.at(kId));
  EXPECT_EQ(manifest, nlohmann::json::parse(absl::StrCat(
                          R"({"id":")", kId,
                          R"(","from":1,"to":2,"created_at":"2026-11-27T05:01:02.000Z",)",
                          R"("prefixes_hex":["7461736b3a"],"item_count":25,"complete":true,)",
                          R"("run_id":")", report->run_id, R"("})")));
  auto backups = m->ListBackups();
  ASSERT_THAT(backups, IsOk());
  ASSERT_EQ(backups->size(), 1u);
  EXPECT_EQ((*backups)[0].id, kId);
  EXPECT_EQ((*backups)[0].item_count, 25u);
  EXPECT_TRUE((*backups)[0].complete);
  EXPECT_THAT((*backups)[0].prefixes, ElementsAre("task:"));
}

TEST(MigratorTest, RecordsEveryHistoryField) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", R"({"id":1})"},
           {"task:2", R"({"id":2,"schema_version":2})"},
           {"note:1", "n"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)),
              IsOk());
  ASSERT_THAT(r.Register(Append(1, "note:", "+")), IsOk());
  ManualClock clock;
  MigratorOptions o;
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->run_id.empty());
  EXPECT_EQ(report->from_version, 1);
  EXPECT_EQ(report->to_version, 2);

  nlohmann::json history = RawHistory(db->DumpAll());
  ASSERT_TRUE(history.is_array());
  ASSERT_EQ(history.size(), 1u);
  const nlohmann::json& e = history[0];
  std::set<std::string> fields;
  for (const auto& [k, v] : e.items()) fields.insert(k);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "run_id", "from", "to", "migrations", "status",
                        "items_migrated", "items_skipped", "items_ahead",
                        "started_at", "duration_ms", "backup_id",
                        "backup_column_family", "error", "checksums",
                        "empty_prefixes_hex"}));
  EXPECT_EQ(e["run_id"], report->run_id);
  EXPECT_EQ(e["from"], 1);
  EXPECT_EQ(e["to"], 2);
  EXPECT_EQ(e["migrations"], nlohmann::json::parse(R"(["append_v1_5","add_x_v2"])"));
  EXPECT_EQ(e["status"], "success");
  EXPECT_EQ(e["items_migrated"], 2);
  EXPECT_EQ(e["items_skipped"], 1);
  EXPECT_EQ(e["started_at"], "2026-11-27T05:01:02.000Z");
  EXPECT_TRUE(std::regex_match(e["started_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
  EXPECT_EQ(e["duration_ms"], 0);  // The clock stood still.
  EXPECT_EQ(e["backup_id"], kId);
  EXPECT_TRUE(e["error"].is_null());
  EXPECT_EQ(e["checksums"], nlohmann::json::object());

  // The typed view agrees.
  auto typed = m->History();
  ASSERT_THAT(typed, IsOk());
  ASSERT_EQ(typed->size(), 1u);
  EXPECT_EQ((*typed)[0].status, StepStatus::kSuccess);
  EXPECT_EQ((*typed)[0].backup_id, std::optional<std::string>(kId));
  EXPECT_EQ((*typed)[0].error, std::nullopt);
}

TEST(MigratorTest, HistoryDurationUsesTheClock) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "a"}, {"task:2", "b"}});
  auto now = std::make_shared<absl::Time>(absl::FromUnixSeconds(1800000000));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "slow", "task:",
                  [now](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  MigratorOptions o = SmallBatches(1);
  // Every reading of the clock advances it by 250 ms.
  auto mu = std::make_shared<std::mutex>();
  o.clock = [now, mu] {
    std::lock_guard<std::mutex> l(*mu);
    *now += absl::Milliseconds(250);
    return *now;
  };
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), IsOk());
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_GT((*h)[0].duration_ms, 0);
  EXPECT_EQ((*h)[0].duration_ms % 250, 0);
}

TEST(MigratorTest, RunsAMultiStepChainAcrossTwoPrefixes) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", "t1"}, {"task:2", "t2"}, {"task:3", "t3"},
                        {"note:1", "n1"}, {"note:2", "n2"}, {"zzz", "z"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(1, "note:", "*")), IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  ManualClock clock;
  MigratorOptions o = SmallBatches(2);
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->to_version, 3);
  ASSERT_EQ(report->steps.size(), 2u);

  const Dump expected_user = {{"task:1", "t1+#"}, {"task:2", "t2+#"},
                              {"task:3", "t3+#"}, {"note:1", "n1*"},
                              {"note:2", "n2*"},  {"zzz", "z"}};
  EXPECT_EQ(db->DumpUser(), expected_user)
      << DescribeDiff(expected_user, db->DumpUser());
  const Dump all = db->DumpAll();
  EXPECT_EQ(all.at("_schema_version"), "3");
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  // Two steps in the same second: two backup ids.
  const std::string id1 = kId, id2 = std::string(kId) + "_2";
  EXPECT_EQ((*h)[0].backup_id, std::optional<std::string>(id1));
  EXPECT_EQ((*h)[1].backup_id, std::optional<std::string>(id2));
  EXPECT_EQ((*h)[0].run_id, report->run_id);
  EXPECT_EQ((*h)[1].run_id, report->run_id);
  EXPECT_EQ((*h)[0].items_migrated, 5u);
  EXPECT_EQ((*h)[1].items_migrated, 3u);
  EXPECT_THAT((*h)[1].migrations, ElementsAre("append_v2_5"));
  // Step 1's backup holds the originals of both prefixes; step 2's holds
  // the task records as step 1 left them.
  EXPECT_EQ(WithPrefix(all, id1 + ":"),
            (Dump{{BackupKey(id1, "note:1"), "n1"},
                  {BackupKey(id1, "note:2"), "n2"},
                  {BackupKey(id1, "task:1"), "t1"},
                  {BackupKey(id1, "task:2"), "t2"},
                  {BackupKey(id1, "task:3"), "t3"}}));
  EXPECT_EQ(WithPrefix(all, id2 + ":"),
            (Dump{{BackupKey(id2, "task:1"), "t1+"},
                  {BackupKey(id2, "task:2"), "t2+"},
                  {BackupKey(id2, "task:3"), "t3+"}}));
  EXPECT_EQ(all.count("_migration_progress"), 0u);
  EXPECT_EQ(all.count("_migration_lock"), 0u);
}

TEST(MigratorTest, MigratesToAnIntermediateTargetThenOn) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "t"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  ASSERT_THAT(m->Migrate(2), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "t+"}}));
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "2");
  auto again = m->Migrate(2);  // Up to date: nothing happens.
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->steps.empty());
  ASSERT_THAT(m->Migrate(), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "t+#"}}));
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "3");
}

TEST(MigratorTest, RefusesNewerSchemaAndWritesNothing) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "t"}, {"_schema_version", "4"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("newer than this binary supports"));
  EXPECT_THAT(m->Migrate(3), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(m->DryRun(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(m->Rollback(1), StatusIs(absl::StatusCode::kFailedPrecondition));
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->newer_than_supported);
  EXPECT_FALSE(state->up_to_date());
  EXPECT_EQ(db->DumpAll(), before) << DescribeDiff(before, db->DumpAll());
}

TEST(MigratorTest, MigrateToBelowCurrentIsInvalidArgument) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "t"}, {"_schema_version", "3"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  const Dump before = db->DumpAll();
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->Migrate(2);
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("Rollback"));
  EXPECT_EQ(db->DumpAll(), before);
}

TEST(MigratorTest, StampsAnEmptyDatabaseWithTheTargetAndRecordsTheStamp) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->stamped_empty);
  EXPECT_EQ(report->to_version, 3);
  Dump all = db->DumpAll();
  EXPECT_EQ(all.at("_schema_version"), "3");
  // Every change of the version is in the history, a stamp included.
  nlohmann::json h = RawHistory(all);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["status"], "stamped");
  EXPECT_EQ(h[0]["from"], 1);
  EXPECT_EQ(h[0]["to"], 3);
  EraseHistory(&all);
  EXPECT_EQ(all, (Dump{{"_schema_version", "3"}}));
}

TEST(MigratorTest, ReservedKeysAloneCountAsEmpty) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"_custom", "x"}, {"_backup_note", "y"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  auto m = MakeMigrator(db->db(), &r);
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->empty);
  EXPECT_FALSE(state->up_to_date());
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->stamped_empty);
  state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->up_to_date());
}

// A user key under no registered prefix makes the database not empty (a
// prefix typo must not stamp a populated database): the step runs, finds no
// record under its prefix, and says so in the status, the report and the
// history.
TEST(MigratorTest, AnyUserKeyMakesTheDatabaseNotEmptyAndAnEmptyPrefixIsReported) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"_custom", "x"}, {"task:1", "v1"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "tsk:", "+")), IsOk());  // A typo.
  auto m = MakeMigrator(db->db(), &r);
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_FALSE(state->empty);
  ASSERT_EQ(state->pending.size(), 1u);
  EXPECT_THAT(state->pending[0].empty_prefixes, ElementsAre("tsk:"));
  auto dry = m->DryRun();
  ASSERT_THAT(dry, IsOk());
  EXPECT_FALSE(dry->would_stamp);
  ASSERT_EQ(dry->steps.size(), 1u);
  EXPECT_THAT(dry->steps[0].empty_prefixes, ElementsAre("tsk:"));
  auto report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->stamped_empty);
  ASSERT_EQ(report->steps.size(), 1u);
  EXPECT_THAT(report->steps[0].empty_prefixes, ElementsAre("tsk:"));
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "v1"}}));
  nlohmann::json h = RawHistory(db->DumpAll());
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["status"], "success");
  EXPECT_EQ(h[0]["empty_prefixes_hex"], nlohmann::json::array({"74736b3a"}));
  // The step is an ordinary step: it can be rolled back.
  ASSERT_THAT(m->Rollback(1), IsOk());
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "1");
}

TEST(MigratorTest, MigratesZeroByteInvalidUtf8AndMultiMebibyteValues) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  std::string big(5 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  const Dump records = {{"task:a", ""},
                        {"task:b", big},
                        {"task:c", std::string("\xc3\x28\xff\xfe\x00", 5)},
                        {"task:d", "small"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  int commits = 0;
  ManualClock clock;
  MigratorOptions o;  // 1000 items / 4 MiB per batch.
  o.clock = clock.fn();
  o.threads = 2;
  o.on_progress = [&](const Progress&) { ++commits; };  // Once per batch.
  auto m = MakeMigrator(db->db(), &r, o);
  absl::StatusOr<RunReport> report = m->Migrate();
  ASSERT_THAT(report, IsOk());
  Dump expected = records;
  for (auto& [k, v] : expected) v += "+";
  const Dump user = db->DumpUser();
  EXPECT_EQ(user, expected) << DescribeDiff(expected, user);
  // The 5 MiB record (10 MiB with its backup) went alone: one batch before
  // it, itself, one after.
  EXPECT_EQ(commits, 3);
  const Dump all = db->DumpAll();
  for (const auto& [k, v] : records) {
    ASSERT_EQ(all.count(BackupKey(kId, k)), 1u) << k;
    EXPECT_TRUE(all.at(BackupKey(kId, k)) == v) << k;
  }
}

TEST(MigratorTest, DeletesRecordsAndBacksThemUp) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  const Dump records = {{"task:1", "keep"}, {"task:2", "delete-me"},
                        {"task:3", "keep"}, {"task:4", "delete-me"}};
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(std::make_unique<FuncMigration>(
                  1, "drop", "task:",
                  [](std::string_view, std::string_view v)
                      -> absl::StatusOr<ItemResult> {
                    if (v == "delete-me") return ItemResult::Delete();
                    return ItemResult::Write(std::string(v) + "+");
                  })),
              IsOk());
  ManualClock clock;
  MigratorOptions o = SmallBatches(3);
  o.clock = clock.fn();
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), IsOk());
  EXPECT_EQ(db->DumpUser(), (Dump{{"task:1", "keep+"}, {"task:3", "keep+"}}));
  const Dump all = db->DumpAll();
  EXPECT_EQ(WithPrefix(all, std::string(kId) + ":"),
            (Dump{{BackupKey(kId, "task:1"), "keep"},
                  {BackupKey(kId, "task:2"), "delete-me"},
                  {BackupKey(kId, "task:3"), "keep"},
                  {BackupKey(kId, "task:4"), "delete-me"}}));
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ((*h)[0].items_migrated, 4u);
}

// Stops mid-step (the migration raises the stop flag at "note:05", as a
// signal handler would) and checks what a stopped run leaves: whole batches
// committed up to the cursor, nothing after it, and a resume that ends with
// the bytes of an uninterrupted run (the migrations are not idempotent, so a
// record migrated twice would show).
TEST(MigratorTest, StopRequestLeavesAResumableStateAndResumesExactly) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  auto ref = TestDb::Open(dir.Sub("ref"));
  Dump records;
  for (int i = 0; i < 20; ++i) {
    records[absl::StrFormat("task:%02d", i)] = absl::StrCat("t", i);
    records[absl::StrFormat("note:%02d", i)] = absl::StrCat("n", i);
  }
  db->Put(records);
  ref->Put(records);
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(AppendStoppingAt(1, "note:", "*", "note:05", &stop)),
              IsOk());
  ASSERT_THAT(r.Register(Append(2, "task:", "#")), IsOk());

  // The uninterrupted run, for reference.
  {
    std::atomic<bool> never{false};
    MigratorOptions o = SmallBatches(3);
    o.stop_requested = &never;
    ASSERT_THAT(MakeMigrator(ref->db(), &r, o)->Migrate(), IsOk());
  }
  stop = false;
  MigratorOptions o = SmallBatches(3, 1);
  o.stop_requested = &stop;
  auto m = MakeMigrator(db->db(), &r, o);
  auto report = m->Migrate();
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kCancelled));
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  ASSERT_TRUE(state->in_flight.has_value());
  EXPECT_EQ(state->in_flight->state, StepState::kMigrating);
  const std::string last = state->in_flight->last_key;
  // "note:" (the first prefix) is done up to the cursor, in whole batches
  // of 3, and nothing after it.
  ASSERT_GE(last, "note:02");  // At least the first batch; the reader may
                                // run ahead of the flag.
  ASSERT_LT(last, "note:19");
  Dump expected = records;
  uint64_t done = 0;
  for (auto& [k, v] : expected) {
    if (k.rfind("note:", 0) == 0 && k <= last) {
      v += "*";
      ++done;
    }
  }
  EXPECT_GT(done, 0u);
  EXPECT_EQ(db->DumpUser(), expected) << DescribeDiff(expected, db->DumpUser());
  Dump all = db->DumpAll();
  EXPECT_EQ(all.count("_migration_progress"), 1u);
  EXPECT_EQ(all.count("_schema_version"), 0u);
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].status, StepStatus::kInterrupted);
  EXPECT_EQ((*h)[0].items_migrated, done);

  // Resume with a fresh migrator (as after a restart).
  m.reset();
  stop = false;
  std::atomic<bool> never{false};
  MigratorOptions o2 = SmallBatches(3, 2);
  o2.stop_requested = &never;
  auto m2 = MakeMigrator(db->db(), &r, o2);
  auto resumed = m2->Migrate();
  ASSERT_THAT(resumed, IsOk());
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(db->DumpUser(), ref->DumpUser())
      << DescribeDiff(ref->DumpUser(), db->DumpUser());
  all = db->DumpAll();
  EXPECT_EQ(all.count("_migration_progress"), 0u);
  EXPECT_EQ(all.at("_schema_version"), "3");
  h = m2->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[0].items_migrated, 40u);
  EXPECT_EQ((*h)[1].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[1].items_migrated, 20u);
  for (const auto& [k, v] : records) {
    EXPECT_EQ(all.at(BackupKey(*(*h)[0].backup_id, k)), v);
  }
}

TEST(MigratorTest, StopRequestInTheSecondStepResumesThere) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 12; ++i) {
    records[absl::StrFormat("task:%02d", i)] = absl::StrCat("t", i);
  }
  db->Put(records);
  std::atomic<bool> stop{false};
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  ASSERT_THAT(r.Register(AppendStoppingAt(2, "task:", "#", "task:03", &stop)),
              IsOk());
  MigratorOptions o = SmallBatches(2, 1);
  o.stop_requested = &stop;
  auto m = MakeMigrator(db->db(), &r, o);
  EXPECT_THAT(m->Migrate(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(db->DumpAll().at("_schema_version"), "2");
  auto state = m->Inspect();
  ASSERT_THAT(state, IsOk());
  ASSERT_TRUE(state->in_flight.has_value());
  EXPECT_EQ(state->in_flight->from, 2);
  const std::string last = state->in_flight->last_key;
  ASSERT_GE(last, "task:01");
  ASSERT_LT(last, "task:11");
  Dump expected = records;
  for (auto& [k, v] : expected) v += k <= last ? "+#" : "+";
  EXPECT_EQ(db->DumpUser(), expected) << DescribeDiff(expected, db->DumpUser());
  stop = false;
  std::atomic<bool> never{false};
  MigratorOptions o2 = SmallBatches(2, 1);
  o2.stop_requested = &never;
  ASSERT_THAT(MakeMigrator(db->db(), &r, o2)->Migrate(), IsOk());
  for (auto& [k, v] : expected) {
    if (v.back() != '#') v += "#";
  }
  EXPECT_EQ(db->DumpUser(), expected) << DescribeDiff(expected, db->DumpUser());
  auto h = m->History();
  ASSERT_THAT(h, IsOk());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].status, StepStatus::kSuccess);
  EXPECT_EQ((*h)[1].items_migrated, 12u);
}

TEST(MigratorTest, ReportsProgressWithIncreasingCountsAndAnEstimate) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 100; ++i) {
    records[absl::StrFormat("task:%03d", i)] = std::string(100, 'x');
  }
  db->Put(records);
  ASSERT_TRUE(db->db()->Flush(rocksdb::FlushOptions()).ok());
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  std::vector<Progress> seen;
  MigratorOptions o = SmallBatches(10, 2);
  o.on_progress = [&](const Progress& p) { seen.push_back(p); };
  auto m = MakeMigrator(db->db(), &r, o);
  ASSERT_THAT(m->Migrate(), IsOk());
  ASSERT_EQ(seen.size(), 10u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].phase, Progress::Phase::kMigrating);
    EXPECT_EQ(seen[i].step_from, 1);
    EXPECT_EQ(seen[i].step_to, 2);
    EXPECT_EQ(seen[i].items_done, 10 * (i + 1));
    EXPECT_GE(seen[i].items_total_estimate, seen[i].items_done);
    // A flushed table of exactly these records: the estimate is close.
    EXPECT_GE(seen[i].items_total_estimate, 50u);
    EXPECT_LE(seen[i].items_total_estimate, 200u);
    EXPECT_EQ(seen[i].prefix, "task:");
  }
}

TEST(MigratorTest, OneThreadAndManyThreadsGiveIdenticalBytes) {
  Dump records;
  for (int i = 0; i < 300; ++i) {
    records[absl::StrFormat("task:%04d", i)] = absl::StrCat(R"({"id":)", i, "}");
    records[absl::StrFormat("note:%04d", i)] = absl::StrCat("n", i);
  }
  std::vector<Dump> dumps;
  for (int threads : {1, 2, 5}) {
    TempDir dir;
    auto db = TestDb::Open(dir.Sub("db"));
    db->Put(records);
    MigrationRegistry r;
    ASSERT_THAT(r.Register(std::make_unique<AddField>(1, "task:", "x", 1)),
                IsOk());
    ASSERT_THAT(r.Register(Append(1, "note:", "*")), IsOk());
    ASSERT_THAT(r.Register(std::make_unique<AddField>(2, "task:", "y", 2)),
                IsOk());
    ManualClock clock;
    MigratorOptions o = SmallBatches(7, threads);
    o.clock = clock.fn();
    auto m = MakeMigrator(db->db(), &r, o);
    ASSERT_THAT(m->Migrate(), IsOk());
    Dump all = db->DumpAll();
    // The run id is random; everything else must be equal.
    nlohmann::json h = RawHistory(all);
    for (auto& e : h) e["run_id"] = "";
    SetHistory(&all, h);
    for (auto& [k, v] : all) {
      if (k.rfind("_backup_", 0) == 0 && k.find(':') == std::string::npos) {
        nlohmann::json j = nlohmann::json::parse(v);
        j["run_id"] = "";
        v = j.dump();
      }
    }
    dumps.push_back(all);
  }
  EXPECT_EQ(dumps[0].at("task:0007"),
            R"({"id":7,"x":1,"schema_version":3,"y":2})");
  EXPECT_EQ(dumps[0], dumps[1]) << DescribeDiff(dumps[0], dumps[1]);
  EXPECT_EQ(dumps[0], dumps[2]) << DescribeDiff(dumps[0], dumps[2]);
}

// A latch for holding one migrator mid-run.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool reached = false;
  bool released = false;
  void Reach() {
    std::unique_lock<std::mutex> l(mu);
    reached = true;
    cv.notify_all();
    cv.wait(l, [&] { return released; });
  }
  void WaitReached() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return reached; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu);
    released = true;
    cv.notify_all();
  }
};

TEST(MigratorTest, SecondMigratorOnTheSameDatabaseGetsUnavailable) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  Dump records;
  for (int i = 0; i < 10; ++i) records[absl::StrFormat("task:%02d", i)] = "t";
  db->Put(records);
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  Gate gate;
  std::atomic<int> passes{0};
  TEST_SetFaultPointCallback("step_start", [&] {
    if (++passes == 1) gate.Reach();
  });
  auto first = MakeMigrator(db->db(), &r, SmallBatches(2));
  absl::StatusOr<RunReport> first_result;
  std::thread runner([&] { first_result = first->Migrate(); });
  gate.WaitReached();

  auto second = MakeMigrator(db->db(), &r, SmallBatches(2));
  auto s = second->Migrate();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("another migrator"));
  EXPECT_THAT(second->Rollback(0), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(second->PruneBackups(0), StatusIs(absl::StatusCode::kUnavailable));
  // Read-only calls still work and see the run in flight.
  auto state = second->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->in_flight.has_value());
  ASSERT_TRUE(state->last_lock_holder.has_value());
  EXPECT_THAT(*state->last_lock_holder, HasSubstr("rocksmigrate"));

  gate.Release();
  runner.join();
  TEST_SetFaultPointCallback("step_start", nullptr);
  ASSERT_THAT(first_result, IsOk());
  Dump expected = records;
  for (auto& [k, v] : expected) v += "+";
  EXPECT_EQ(db->DumpUser(), expected);  // Migrated once, not twice.
  // Now the lease is free.
  auto later = second->Migrate();
  ASSERT_THAT(later, IsOk());
  EXPECT_TRUE(later->steps.empty());
  EXPECT_EQ(db->DumpAll().count("_migration_lock"), 0u);
}

TEST(MigratorTest, SecondMigratorWaitsWhenAskedToAndThenFindsNothingToDo) {
  TempDir dir;
  auto db = TestDb::Open(dir.Sub("db"));
  db->Put({{"task:1", "a"}, {"task:2", "b"}, {"task:3", "c"}});
  MigrationRegistry r;
  ASSERT_THAT(r.Register(Append(1, "task:", "+")), IsOk());
  Gate gate;
  std::atomic<int> passes{0};
  TEST_SetFaultPointCallback("step_start", [&] {
    if (++passes == 1) gate.Reach();
  });
  auto first = MakeMigrator(db->db(), &r, SmallBatches(1));
  absl::StatusOr<RunReport> first_result;
  std::thread runner([&] { first_result = first->Migrate(); });
  gate.WaitReached();
  MigratorOptions o = SmallBatches(1);
  o.lock_wait = absl::Seconds(30);
  auto second = MakeMigrator(db->db(), &r, o);
  absl::StatusOr<RunReport> second_result;
  // The second migrator must be waiting for the lease before the first
  // goes on: the lease reports its wait at "lease_wait".
  Gate waiting;
  TEST_SetFaultPointCallback("lease_wait", [&] { waiting.Reach(); });
  std::thread waiter([&] { second_result = second->Migrate(); });
  waiting.WaitReached();
  waiting.Release();
  gate.Release();
  runner.join();
  waiter.join();
  TEST_SetFaultPointCallback("step_start", nullptr);
  TEST_SetFaultPointCallback("lease_wait", nullptr);
  ASSERT_THAT(first_result, IsOk());
  ASSERT_THAT(second_result, IsOk());
  EXPECT_TRUE(second_result->steps.empty());
  EXPECT_EQ(db->DumpUser(),
            (Dump{{"task:1", "a+"}, {"task:2", "b+"}, {"task:3", "c+"}}));
}

}  // namespace
}  // namespace rocksmigrate
